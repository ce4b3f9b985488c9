// The one definition of a trusted complete backup, used by `runbook backups` (listing, newest, RPO),
// retention and every restore's `latest` (through `runbook backups --pick`). A folder is one when its
// name is a backup id not dated beyond now + the allowed clock skew; its manifest.json parses and has
// the shape of schemas/manifest.schema.json and names this folder; every name in it is a safe
// relative path; every data file it lists is stored with the recorded size; no prune marked it; and
// its signature verifies against the trusted public keys (unless unsigned backups are allowed).
// Anything else is untrusted, with the reasons: never restored as `latest`, never counted.
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validators } from '../runbook/validators.generated.js';
import { parseBackupId } from './id.js';
import { listFolders, pruneMarkName, type ListedFolder } from './list.js';
import type { BackupManifest } from './manifest.js';
import { showName, unsafeNameReason } from './names.js';
import type { RcloneOptions } from './rclone.js';
import { signatureName, verifySignature, writeAllowedSigners } from './signature.js';

/** Whose signatures make a backup trusted. */
export interface SignaturePolicy {
  /** Public keys (`TYPE BASE64`) whose signatures are trusted. @default none: signatures are not checked */
  signers?: readonly string[];
  /** Trust a backup without a signature (with signers: one that has no manifest.json.sig). @default false */
  allowUnsigned?: boolean;
}

/** Options of {@link assessFolders}. */
export interface TrustOptions {
  /** The current time. @default new Date() */
  now?: Date;
  /** How far in the future a backup id may lie before it is distrusted (clocks drift). @default 5 minutes */
  skewMs?: number;
  /** @default signatures not checked */
  signatures?: SignaturePolicy;
}

/** How a backup's signature was judged. */
export type SignatureState = 'verified' | 'unsigned' | 'invalid' | 'not checked';

/** One backup folder (its name is a backup id), judged. */
export interface BackupFolder {
  /** The folder name, e.g. `2026-11-25T020000Z`. */
  id: string;
  /** The UTC time the id names. */
  time: Date;
  /** `complete` (trusted), `incomplete` (no manifest: running, or died) or `untrusted` (see `problems`). */
  state: 'complete' | 'incomplete' | 'untrusted';
  /** The parsed manifest, when it parses (trusted or not). */
  manifest?: BackupManifest;
  /** The exact bytes of manifest.json that were checked. */
  manifestBytes?: Buffer;
  /** Why the folder is not a trusted complete backup; empty when it is one. */
  problems: string[];
  /** The reasons in one line. */
  problem?: string;
  signature: SignatureState;
  /** Dated beyond now plus the allowed skew. */
  future: boolean;
  /** Whether an earlier prune marked the folder for deletion (it may be partly deleted). */
  marked: boolean;
}

/** The folders of a destination: the backups (oldest first) and the names that are not backup ids. */
export interface BackupSet {
  backups: BackupFolder[];
  ignored: string[];
}

export const defaultSkewMs = 5 * 60_000;

/** Names in a manifest that a restore joins to a folder: every one must be a safe relative path. */
const namesOf = (manifest: BackupManifest): unknown[] => {
  const record = (value: unknown) => (value && typeof value === 'object' ? (value as Record<string, unknown>) : {});
  const repositories = record(manifest.repositories);
  return [
    ...manifest.files.map((file) => file.name),
    ...((manifest.dirs as { name?: unknown }[] | undefined) ?? []).map((dir) => dir.name),
    ...((manifest.entries as { path?: unknown }[] | undefined) ?? []).map((entry) => entry.path),
    ...Object.keys(record(manifest.refs)),
    ...Object.keys(record(manifest.heads)),
    ...Object.keys(repositories),
    ...Object.values(repositories).map((repository) => record(repository).metadata),
  ].filter((name) => name !== undefined);
};

/** Parses and shape-checks manifest bytes: the manifest, or the problem. */
const readManifest = (bytes: Buffer): { manifest?: BackupManifest; problem?: string } => {
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    return { problem: `manifest.json does not parse: ${(error as Error).message}` };
  }
  if (!validators.manifest(value)) {
    const error = validators.manifest.errors?.[0];
    return {
      problem: `manifest.json is not a backup manifest: ${error ? `${error.instancePath || 'the manifest'} ${error.message}` : 'invalid'}`,
    };
  }
  return { manifest: value as BackupManifest };
};

/** A symbolic link is restored from its recorded target: that text must be what bytes and sha256 say. */
const linkMatches = (file: { target?: unknown; bytes: number; sha256: string }): boolean =>
  typeof file.target === 'string' &&
  Buffer.byteLength(file.target) === file.bytes &&
  createHash('sha256').update(file.target).digest('hex') === file.sha256;

/** Problems of a parsed manifest against its folder: its id, its names, its data files' presence and sizes. */
const contentProblems = (folder: ListedFolder, manifest: BackupManifest): string[] => {
  const problems: string[] = [];
  if (manifest.id !== folder.name) problems.push(`its manifest is that of backup ${showName(manifest.id)}, not of this folder`);
  for (const name of namesOf(manifest)) {
    const reason = unsafeNameReason(name);
    if (reason) problems.push(`unsafe name ${showName(name)} in the manifest (${reason})`);
  }
  for (const path of folder.objects.keys()) {
    const reason = unsafeNameReason(path);
    if (reason) problems.push(`unsafe stored object name ${showName(path)} (${reason})`);
  }
  let missing = 0;
  for (const file of manifest.files) {
    if (unsafeNameReason(file.name)) continue;
    // rclone stores a symbolic link as NAME.rclonelink holding its target (files.backup).
    const stored = file.type === 'symlink' ? `${file.name}.rclonelink` : file.name;
    const size = folder.objects.get(stored);
    if (file.type === 'symlink' && !linkMatches(file))
      problems.push(`${showName(file.name)}: its recorded target does not have the recorded size and sha256`);
    if (size === undefined) missing++;
    if (size === undefined && missing <= 5) problems.push(`${showName(file.name)} is missing from the store`);
    else if (size !== undefined && size !== file.bytes)
      problems.push(`${showName(file.name)} is ${size} bytes in the store, the manifest says ${file.bytes}`);
  }
  if (missing > 5) problems.push(`and ${missing - 5} more files missing from the store`);
  return problems;
};

/** The signature's state, and a problem when it makes the folder untrusted. */
const judgeSignature = async (
  folder: ListedFolder,
  policy: SignaturePolicy,
  allowedSigners: string | undefined,
  scratch: string,
): Promise<{ signature: SignatureState; problem?: string }> => {
  if (!policy.signers?.length) return { signature: 'not checked' };
  if (!folder.signature) {
    return policy.allowUnsigned ? { signature: 'unsigned' } : { signature: 'unsigned', problem: `unsigned (no ${signatureName})` };
  }
  const problem = await verifySignature(folder.manifest!, folder.signature, allowedSigners!, scratch);
  return problem ? { signature: 'invalid', problem } : { signature: 'verified' };
};

/** Judges one folder whose name is a backup id. */
const assessFolder = async (
  folder: ListedFolder,
  time: Date,
  options: Required<Pick<TrustOptions, 'skewMs'>> & { now: Date; signatures: SignaturePolicy },
  allowedSigners: string | undefined,
  scratch: string,
): Promise<BackupFolder> => {
  const future = time.getTime() > options.now.getTime() + options.skewMs;
  const base = { id: folder.name, time, future, marked: folder.marked };
  const problems: string[] = [];
  if (future) problems.push('dated in the future (clock skew?)');
  if (folder.marked) problems.push(`marked for deletion by a prune (${pruneMarkName})`);
  if (!folder.hasManifest) return { ...base, state: 'incomplete', problems: ['no manifest', ...problems], signature: 'not checked' };
  if (!folder.manifest) problems.push('manifest.json could not be fetched');
  const read = folder.manifest ? readManifest(folder.manifest) : {};
  if (read.problem) problems.push(read.problem);
  if (read.manifest) problems.push(...contentProblems(folder, read.manifest));
  const judged = folder.manifest
    ? await judgeSignature(folder, options.signatures, allowedSigners, scratch)
    : { signature: 'not checked' as const };
  if ('problem' in judged && judged.problem) problems.push(judged.problem);
  return {
    ...base,
    state: problems.length ? 'untrusted' : 'complete',
    manifest: read.manifest,
    manifestBytes: folder.manifest,
    problems,
    problem: problems.length ? problems.join('; ') : undefined,
    signature: judged.signature,
  };
};

/** Judges every listed folder: the backups, oldest first, and the names that are no backup ids. */
export const assessFolders = async (listed: readonly ListedFolder[], options: TrustOptions = {}): Promise<BackupSet> => {
  const settled = { now: options.now ?? new Date(), skewMs: options.skewMs ?? defaultSkewMs, signatures: options.signatures ?? {} };
  const scratch = await mkdtemp(join(tmpdir(), 'runbook-trust-'));
  try {
    const signers = settled.signatures.signers;
    const allowedSigners = signers?.length ? await writeAllowedSigners(signers, scratch) : undefined;
    const ignored: string[] = [];
    const backups: BackupFolder[] = [];
    for (const folder of listed) {
      const time = parseBackupId(folder.name);
      if (!time) ignored.push(folder.name);
      else backups.push(await assessFolder(folder, time, settled, allowedSigners, scratch));
    }
    backups.sort((a, b) => a.time.getTime() - b.time.getTime());
    return { backups, ignored: ignored.sort() };
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
};

/** Lists and judges the folders under `dest`. */
export const loadBackups = async (dest: string, options: TrustOptions & RcloneOptions = {}): Promise<BackupSet> =>
  assessFolders(await listFolders(dest, { env: options.env }), options);

/** The trusted complete backups, oldest first. */
export const trustedBackups = (folders: readonly BackupFolder[]): BackupFolder[] => folders.filter((folder) => folder.state === 'complete');

/** The newest trusted complete backup, if any. */
export const newestTrusted = (folders: readonly BackupFolder[]): BackupFolder | undefined => trustedBackups(folders).at(-1);
