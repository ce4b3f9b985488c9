// Hand-made files backups for the trust tests: a folder DEST/ID/ with files/… data and a manifest of
// the real shape (schemas/manifest.schema.json), optionally signed the way the signing contract says
// (`ssh-keygen -Y sign -n runbook-backup` over the exact manifest bytes, manifest.json.sig beside it).
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** A manifest as the tests shape it: the real fields, open to any change a case needs. */
export type TestManifest = Record<string, unknown> & { files: Record<string, unknown>[] };

/** Options of {@link writeFilesBackup}. */
export interface FilesBackupOptions {
  /** Data files by path below files/ and their content. @default one file named after the id */
  files?: Record<string, string>;
  /** Changes the manifest before it is written (e.g. a name that escapes). */
  edit?: (manifest: TestManifest) => void;
  /** The manifest's exact text instead of the JSON of the (edited) manifest. */
  manifestText?: string;
  /** Data files (paths below files/) that are listed in the manifest but not written to the store. */
  omit?: string[];
  /** Objects written to the store besides the data files (path relative to the backup folder). */
  extra?: Record<string, string>;
  /** The ed25519 private key that signs the manifest; unsigned without it. */
  signWith?: string;
  /** Write no manifest.json at all (an incomplete backup). */
  noManifest?: boolean;
}

const sha256 = (text: string | Buffer) => createHash('sha256').update(text).digest('hex');

/** The manifest of a files backup holding `files`, as files.backup writes it. */
export const filesManifest = (id: string, files: Record<string, string>): TestManifest => ({
  format: 'runbook-backup/1',
  kind: 'files',
  id,
  created: /^\d{4}-\d\d-\d\dT\d{6}Z$/.test(id) ? `${id.slice(0, 13)}:${id.slice(13, 15)}:${id.slice(15, 17)}Z` : '2026-01-01T00:00:00Z',
  source: { path: '/srv/source' },
  files: Object.entries(files).map(([name, content]) => ({
    name: `files/${name}`,
    bytes: Buffer.byteLength(content),
    sha256: sha256(content),
  })),
  runbook: { name: 'trust-test', commit: '', run_id: '', step: '' },
});

/** Signs `file` as the signing contract says, writing FILE.sig. */
export const signFile = (file: string, key: string) => {
  execFileSync('ssh-keygen', ['-Y', 'sign', '-f', key, '-n', 'runbook-backup', file], { stdio: ['ignore', 'ignore', 'pipe'] });
};

/** Writes a files backup under `dest` (a local folder) and returns its data files. */
export const writeFilesBackup = (dest: string, id: string, options: FilesBackupOptions = {}): Record<string, string> => {
  const files = options.files ?? { [`${id}.txt`]: `data of ${id}\n` };
  const folder = join(dest, id);
  mkdirSync(folder, { recursive: true });
  for (const [name, content] of Object.entries(files)) {
    if (options.omit?.includes(name)) continue;
    mkdirSync(dirname(join(folder, 'files', name)), { recursive: true });
    writeFileSync(join(folder, 'files', name), content);
  }
  for (const [name, content] of Object.entries(options.extra ?? {})) {
    mkdirSync(dirname(join(folder, name)), { recursive: true });
    writeFileSync(join(folder, name), content);
  }
  if (options.noManifest) return files;
  const manifest = filesManifest(id, files);
  options.edit?.(manifest);
  const text = options.manifestText ?? JSON.stringify(manifest, null, 2) + '\n';
  // The signature goes first, the manifest (the completeness mark) last, as the contract says.
  if (options.signWith) {
    writeFileSync(join(folder, 'manifest.json.unsigned'), text);
    signFile(join(folder, 'manifest.json.unsigned'), options.signWith);
    writeFileSync(join(folder, 'manifest.json.sig'), readFileSync(join(folder, 'manifest.json.unsigned.sig')));
    execFileSync('rm', ['-f', join(folder, 'manifest.json.unsigned'), join(folder, 'manifest.json.unsigned.sig')]);
  }
  writeFileSync(join(folder, 'manifest.json'), text);
  return files;
};

/** Generates an ed25519 key pair in `dir` (`NAME`, `NAME.pub`) and returns the private key's path and the public line. */
export const generateKey = (dir: string, name: string): { key: string; publicLine: string } => {
  const key = join(dir, name);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `${name}@test`, '-f', key], { stdio: 'ignore' });
  return { key, publicLine: readFileSync(`${key}.pub`, 'utf8').trim() };
};
