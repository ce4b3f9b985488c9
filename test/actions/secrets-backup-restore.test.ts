// secrets.backup and secrets.restore for real: a real age (keys made by age-keygen), a real tar and a
// real rclone into a local folder and into the local S3 endpoint. Secret files keep their content,
// mode and numeric owner (999 and 70: the test runs as root, as a restore that keeps owners must);
// their plaintext is in no output and in no stored object; the identity is in no output. Damaged,
// altered and forged backups (an archive anyone with the public key can make, with a manifest that
// agrees with it) are refused before anything in the target folder is touched.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmod, chown, lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Ajv2020Module from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { secretsBackup } from '../../src/actions/secrets.backup/index.js';
import { secretsRestore } from '../../src/actions/secrets.restore/index.js';
import { scriptFor } from '../../src/actions/library.js';
import type { SecretsBackupInput } from '../../src/runbook/schema.generated.js';
import { validators } from '../../src/runbook/validators.generated.js';
import { startS3, type S3Server } from '../../tools/stack/s3.js';
import { findSystemBinary, systemPath } from '../../tools/stack/run.js';
import { expectOk, requireBinaries, runShell, runStep, type ShellResult } from '../backup/shell.js';

const context = { runbook: 'secrets-test', stepId: 'secrets', secrets: ['AGE_KEY'] };

/** secrets.backup's expansion for inputs whose lists the test builds (the schema, not the type, requires them non-empty). */
const backupStep = (input: Omit<SecretsBackupInput, 'files' | 'recipients'> & { files: string[]; recipients: string[] }, ctx = context) =>
  secretsBackup.expand(input as SecretsBackupInput, ctx);

/** schemas/manifest.schema.json, compiled (unknown fields of an entry are errors). */
const validateManifest = new Ajv2020Module.default({ allErrors: true, strict: false }).compile(
  JSON.parse(await readFile(new URL('../../schemas/manifest.schema.json', import.meta.url), 'utf8')),
);

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

/** An age key pair from age-keygen: the identity file's whole text, its key line and its public key. */
interface AgeKey {
  file: string;
  text: string;
  secretKey: string;
  recipient: string;
}

const keygen = async (dir: string, name: string): Promise<AgeKey> => {
  const file = join(dir, `${name}.key`);
  execFileSync('age-keygen', ['-o', file], { stdio: 'ignore' });
  const text = await readFile(file, 'utf8');
  const secretKey = text.split('\n').find((line) => line.startsWith('AGE-SECRET-KEY-1'))!;
  const recipient = execFileSync('age-keygen', ['-y', file], { encoding: 'utf8' }).trim();
  return { file, text, secretKey, recipient };
};

/** The secret files of a Docker stack, with the modes and owners the containers expect. */
const SECRETS: Record<string, { content: string; mode: number; uid: number; gid: number }> = {
  '.env': { content: 'POSTGRES_PASSWORD=pg-plaintext-7f3a91e2\nJWT_SECRET=jwt-plaintext-c0ffee55d00d\n', mode: 0o600, uid: 0, gid: 0 },
  'supabase/volumes/functions/.env': { content: 'SERVICE_ROLE_KEY=service-plaintext-b16b00b5\n', mode: 0o640, uid: 999, gid: 999 },
  'db/server.key': {
    content: '-----BEGIN PRIVATE KEY-----\nkey-plaintext-5eed5eed\n-----END PRIVATE KEY-----\n',
    mode: 0o400,
    uid: 70,
    gid: 70,
  },
};
const FILES = Object.keys(SECRETS);
/** Strings that must never leave the server unencrypted. */
const PLAINTEXTS = ['pg-plaintext-7f3a91e2', 'jwt-plaintext-c0ffee55d00d', 'service-plaintext-b16b00b5', 'key-plaintext-5eed5eed'];

const seedSecrets = async (dir: string) => {
  for (const [path, { content, mode, uid, gid }] of Object.entries(SECRETS)) {
    await mkdir(join(dir, path, '..'), { recursive: true });
    await writeFile(join(dir, path), content);
    await chown(join(dir, path), uid, gid);
    await chmod(join(dir, path), mode);
  }
  // Not listed: never stored.
  await writeFile(join(dir, 'docker-compose.yml'), 'services: {}\n');
};

type Found = { type: 'file'; content: string; mode: string; uid: number; gid: number } | { type: 'link'; target: string } | { type: 'dir' };

/** Everything under `dir`, links not followed: files with content, mode and owner. */
const treeOf = async (dir: string): Promise<Record<string, Found>> => {
  const tree: Record<string, Found> = {};
  const visit = async (folder: string, prefix: string) => {
    let names: string[];
    try {
      names = await readdir(folder);
    } catch {
      return;
    }
    for (const name of names.sort()) {
      const path = join(folder, name);
      const key = prefix + name;
      const info = await lstat(path);
      if (info.isSymbolicLink()) tree[key] = { type: 'link', target: await readlink(path) };
      else if (info.isDirectory()) {
        tree[key] = { type: 'dir' };
        await visit(path, `${key}/`);
      } else
        tree[key] = {
          type: 'file',
          content: await readFile(path, 'utf8'),
          mode: (info.mode & 0o7777).toString(8).padStart(4, '0'),
          uid: info.uid,
          gid: info.gid,
        };
    }
  };
  await visit(dir, '');
  return tree;
};

/** What a restore of SECRETS must produce. */
const expectedTree = () =>
  Object.fromEntries(
    Object.entries(SECRETS).map(([path, { content, mode, uid, gid }]) => [
      path,
      { type: 'file', content, mode: mode.toString(8).padStart(4, '0'), uid, gid },
    ]),
  );

/** The content of every file under `dir`, recursively. */
const contentsUnder = async (dir: string): Promise<Buffer[]> => {
  const found: Buffer[] = [];
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) found.push(await readFile(join(entry.parentPath, entry.name)));
  }
  return found;
};

const expectNoPlaintext = (what: string, texts: (string | Buffer)[]) => {
  for (const text of texts) for (const secret of PLAINTEXTS) expect(text.includes(secret), `${what} holds ${secret}`).toBe(false);
};

const output = (result: ShellResult | undefined) => (result ? result.stdout + result.stderr : '');

describe('secrets.backup and secrets.restore', () => {
  let root: string;
  let key: AgeKey;
  let other: AgeKey;

  beforeAll(async () => {
    requireBinaries('age', 'age-keygen', 'rclone', 'jq', 'sha256sum', 'tar', 'setpriv');
    if (process.getuid?.() !== 0) throw new Error('these tests give files the owners 999 and 70, which needs root: run them as root');
    root = await mkdtemp(join(tmpdir(), 'secrets-actions-'));
    key = await keygen(root, 'operator');
    other = await keygen(root, 'stranger');
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  /** A backup of SECRETS (made and verified) into a local folder; its folder and id. */
  const backedUp = async (name: string, recipients = [key.recipient], prepare?: (source: string) => Promise<void>) => {
    const source = join(root, `${name}-src`);
    await seedSecrets(source);
    await prepare?.(source);
    const to = join(root, `${name}-bucket`);
    const backup = await runStep(backupStep({ source, files: FILES, recipients, to }, context), root);
    expectOk(backup.run, 'backup');
    expectOk(backup.verify, 'backup verify');
    const id = backup.outputs.backup!;
    return { source, to, id, folder: join(to, id), backup };
  };

  const restoreStep = (from: string, to: string, backup = 'latest') =>
    secretsRestore.expand({ allow_unsigned: true, from, to, backup, key_secret: 'AGE_KEY' }, context);

  /** A target folder already holding an older .env and a file the backup lacks. */
  const existingTarget = async (name: string) => {
    const target = join(root, name);
    await mkdir(target);
    await writeFile(join(target, '.env'), 'POSTGRES_PASSWORD=old\n', { mode: 0o644 });
    await writeFile(join(target, 'keep.txt'), 'not in the backup\n');
    return { target, before: await treeOf(target) };
  };

  it('round-trips secret files through a local folder: content, mode and numeric owner kept; no plaintext in the bucket, the manifest or any output; no identity in any output', async () => {
    const { source, to, id, folder, backup } = await backedUp('round');
    expect(id).toMatch(/^\d{4}-\d\d-\d\dT\d{6}Z$/);
    expect((await readdir(folder)).sort()).toEqual(['manifest.json', 'secrets.tar.age']);
    const stored = await readFile(join(folder, 'secrets.tar.age'));
    expect(stored.subarray(0, 22).toString()).toBe('age-encryption.org/v1\n');

    const manifestText = await readFile(join(folder, 'manifest.json'), 'utf8');
    const manifest = JSON.parse(manifestText);
    expect(validateManifest(manifest), JSON.stringify(validateManifest.errors)).toBe(true);
    expect(manifest).toMatchObject({
      format: 'runbook-backup/1',
      kind: 'secrets',
      id,
      created: `${id.slice(0, 13)}:${id.slice(13, 15)}:${id.slice(15, 17)}Z`,
      source: { path: source },
      files: [{ name: 'secrets.tar.age', bytes: stored.length, sha256: sha256(stored) }],
      recipients: [key.recipient],
      runbook: { name: 'test', commit: 'abc123', run_id: 'run-1', step: 'step' },
    });
    expect(manifest.entries).toEqual([
      { path: '.env', mode: '0600', uid: 0, gid: 0, bytes: SECRETS['.env']!.content.length },
      { path: 'db/server.key', mode: '0400', uid: 70, gid: 70, bytes: SECRETS['db/server.key']!.content.length },
      {
        path: 'supabase/volumes/functions/.env',
        mode: '0640',
        uid: 999,
        gid: 999,
        bytes: SECRETS['supabase/volumes/functions/.env']!.content.length,
      },
    ]);
    // Neither the plaintext nor its hash (which would let anyone test guesses) is stored unencrypted.
    for (const { content } of Object.values(SECRETS)) expect(manifestText).not.toContain(sha256(content));
    expectNoPlaintext('the bucket', await contentsUnder(to));
    expectNoPlaintext('the backup step', [output(backup.run), output(backup.verify)]);

    // The archive inside: the files with numeric owners and modes, and SHA256SUMS of their content.
    const listing = execFileSync(
      'bash',
      ['-c', 'age -d -i "$1" "$2" | tar -tv --numeric-owner', 'bash', key.file, join(folder, 'secrets.tar.age')],
      {
        encoding: 'utf8',
      },
    );
    expect(listing).toMatch(/^-rw-r----- 999\/999 .* supabase\/volumes\/functions\/\.env$/m);
    expect(listing).toMatch(/^-r-------- 70\/70 .* db\/server\.key$/m);
    expect(listing).toMatch(/ SHA256SUMS$/m);
    expect(listing).not.toContain('docker-compose.yml');

    // Restored over an older .env, beside a file the backup lacks (kept), with the whole identity file as the secret.
    const { target } = await existingTarget('round-restored');
    const restore = await runStep(restoreStep(to, target), root, { AGE_KEY: key.text });
    expectOk(restore.run, 'restore');
    expectOk(restore.verify, 'restore verify');
    expect(restore.outputs.backup).toBe(id);
    const tree = await treeOf(target);
    expect(tree).toMatchObject(expectedTree());
    expect(tree['keep.txt']).toMatchObject({ type: 'file', content: 'not in the backup\n' });
    // No temporary file left beside the restored ones.
    expect(Object.keys(tree).filter((path) => path.includes('.runbook-'))).toEqual([]);
    expectNoPlaintext('the restore step', [output(restore.run), output(restore.verify)]);
    for (const text of [output(restore.run), output(restore.verify)]) expect(text).not.toContain(key.secretKey.slice(16));

    // The key line alone does as well, into a folder that does not exist yet.
    const fresh = join(root, 'round-fresh', 'stack');
    const again = await runStep(restoreStep(to, fresh, id), root, { AGE_KEY: key.secretKey });
    expectOk(again.verify, 'restore of a named backup');
    expect(await treeOf(fresh)).toMatchObject(expectedTree());
  });

  it('expands to quoted inputs, the identity by reference to its secret only, and refuses what it cannot do safely', () => {
    const backup = backupStep(
      { source: "/srv/it's", files: ['.env', 'supabase/$(touch pwned)'], recipients: [key.recipient], to: 'backup:bucket/secrets' },
      context,
    );
    expect(backup.run).toBe(
      `SOURCE='/srv/it'\\''s'\nTO=backup:bucket/secrets\nSIGN_WITH=''\nRB_RUNBOOK=secrets-test\nRB_STEP=secrets\nFILES=(.env 'supabase/$(touch pwned)')\nRECIPIENTS=(${key.recipient})\nrb_secrets_backup_run`,
    );
    expect(backup.verify.run).toBe(
      `SOURCE='/srv/it'\\''s'\nTO=backup:bucket/secrets\nSIGN_WITH=''\nFILES=(.env 'supabase/$(touch pwned)')\nRECIPIENTS=(${key.recipient})\nrb_secrets_backup_verify`,
    );
    const restore = restoreStep('backup:bucket/secrets', '/srv/stack');
    const head =
      'IDENTITY="${AGE_KEY}"\nFROM=backup:bucket/secrets\nBACKUP=latest\nKEY_SECRET=AGE_KEY\nTO=/srv/stack\nSIGNERS=\'\'\nALLOW_UNSIGNED=true\n';
    expect(restore.run).toBe(`${head}rb_secrets_restore_run`);
    expect(restore.verify.run).toBe(`${head}rb_secrets_restore_verify`);

    expect(() => secretsRestore.expand({ allow_unsigned: true, from: 'x:y', to: '/srv', key_secret: 'UNDECLARED' }, context)).toThrow(
      "key_secret 'UNDECLARED' is not a declared secret",
    );
    for (const [path, problem] of [
      ['../etc/passwd', "contains '..'"],
      ['/etc/passwd', 'an absolute path'],
      ['a/../../b', "contains '..'"],
      ['./a', "has an empty or '.' part"],
      ['SHA256SUMS', 'is SHA256SUMS'],
      ['a\nb', 'control character'],
    ]) {
      expect(() => backupStep({ source: '/srv', files: [path!], recipients: [key.recipient], to: '/b' }, context), path).toThrow(problem);
    }
    expect(secretsRestore.destructive({ from: 'x', to: 'y', key_secret: 'AGE_KEY' })).toBe(true);
    expect(secretsBackup.destructive({ source: 'x', files: ['a'], recipients: [key.recipient], to: 'y' })).toBe(false);
    for (const action of [secretsBackup, secretsRestore]) {
      expect(action.requires({} as never).sort()).toEqual(['age', 'jq', 'rclone', 'sha256sum', 'tar']);
    }

    // The schemas refuse the same paths, keys that are no age public keys, and empty lists.
    const validate = validators.actions['secrets.backup']!;
    const input = (files: string[], recipients = [key.recipient]) => ({ source: '/srv', files, recipients, to: '/b' });
    expect(validate(input(['.env', 'supabase/.env'])), JSON.stringify(validate.errors)).toBe(true);
    for (const bad of [
      input(['../x']),
      input(['/etc/x']),
      input(['a/../x']),
      input([]),
      input(['.env'], []),
      input(['.env'], ['age1short']),
    ])
      expect(validate(bad), JSON.stringify(bad)).toBe(false);
    expect(validate(input(['.env'], [key.recipient.toUpperCase()]))).toBe(false);
    const validateRestore = validators.actions['secrets.restore']!;
    expect(validateRestore({ from: 'a', to: 'b', key_secret: 'AGE_KEY', backup: '2026-01-01T000000Z' })).toBe(true);
    expect(validateRestore({ from: 'a', to: 'b', key_secret: 'AGE-KEY' })).toBe(false);
    expect(validateRestore({ from: 'a', to: 'b', key_secret: 'AGE_KEY', backup: 'yesterday' })).toBe(false);
  });

  it('hands age the identity as a private 0600 file, never on a command line, and no command inherits it from the step', async () => {
    const { to } = await backedUp('argv');
    // A stand-in age that records its arguments, the mode of its -i file and whether its environment
    // holds IDENTITY, then runs the real one.
    const shim = join(root, 'argv-bin');
    await mkdir(shim);
    const log = join(root, 'argv.log');
    await writeFile(
      join(shim, 'age'),
      `#!/bin/bash\nprintf 'args %s\\n' "$*" >> "${log}"\nprev=\nfor a; do [ "$prev" != -i ] || stat -c 'identity %a %U' "$a" >> "${log}"; prev=$a; done\nif [ -n "\${IDENTITY+x}" ]; then echo 'env set'; else echo 'env unset'; fi >> "${log}"\nexec "${findSystemBinary('age')}" "$@"\n`,
      { mode: 0o755 },
    );
    const target = join(root, 'argv-target');
    // IDENTITY exported already (by whoever started the run): the step's assignment keeps it exported
    // until rb_secrets_identity unsets it.
    const restore = await runStep(restoreStep(to, target), root, {
      AGE_KEY: key.text,
      IDENTITY: 'exported-before',
      PATH: `${shim}:${systemPath()}`,
    });
    expectOk(restore.verify, 'restore verify');
    const lines = (await readFile(log, 'utf8')).trim().split('\n');
    // One decryption in the run, one in the verification.
    expect(lines.filter((line) => line.startsWith('args --decrypt -i '))).toHaveLength(2);
    expect(lines.filter((line) => line.startsWith('identity '))).toEqual(['identity 600 root', 'identity 600 root']);
    expect(lines.filter((line) => line.startsWith('env '))).toEqual(['env unset', 'env unset']);
    expect(lines.join('\n')).not.toContain(key.secretKey.slice(16));
    expect(lines.join('\n')).not.toContain('AGE-SECRET-KEY');
  });

  it('a wrong identity fails, naming the secret and the backup, and leaves the target folder untouched', async () => {
    const { to, id } = await backedUp('wrong-key');
    const { target, before } = await existingTarget('wrong-key-target');
    const restore = await runStep(restoreStep(to, target), root, { AGE_KEY: other.text });
    expect(restore.run.code).not.toBe(0);
    expect(restore.run.stderr).toContain(
      `secrets.restore: the key in AGE_KEY does not decrypt backup ${id}: age: error: no identity matched any of the recipients`,
    );
    expect(restore.run.stderr).toContain(`nothing in ${target} was touched`);
    expect(output(restore.run)).not.toContain(other.secretKey.slice(16));
    expect(await treeOf(target)).toEqual(before);
    // A secret that holds no identity at all is refused without echoing it.
    const garbage = await runShell(restoreStep(to, target).run, { AGE_KEY: 'not-a-key-0123456789', RUNBOOK_OUTPUT: '/dev/null' });
    expect(garbage.code).not.toBe(0);
    expect(garbage.stderr).toContain('the secret AGE_KEY holds no age identity');
    expect(output(garbage)).not.toContain('not-a-key-0123456789');
    expect(await treeOf(target)).toEqual(before);
  });

  it('an altered byte in the stored archive fails on its sha256 before decrypting and before anything is written', async () => {
    const { to, id, folder } = await backedUp('altered');
    const file = join(folder, 'secrets.tar.age');
    const bytes = await readFile(file);
    bytes.writeUInt8(bytes.readUInt8(bytes.length - 100) ^ 0x01, bytes.length - 100);
    await writeFile(file, bytes);
    const { target, before } = await existingTarget('altered-target');
    // With the wrong key too: the size and sha256 are checked first, so the message is about them.
    for (const identity of [key.text, other.text]) {
      const restore = await runShell(restoreStep(to, target).run, { AGE_KEY: identity, RUNBOOK_OUTPUT: '/dev/null' });
      expect(restore.code).not.toBe(0);
      expect(restore.stderr).toContain(`${to}/${id}/secrets.tar.age is ${bytes.length} bytes, sha256 ${sha256(bytes)}; its manifest says`);
      expect(restore.stderr).toContain('not decrypted');
      expect(restore.stderr).not.toContain('does not decrypt');
      expect(await treeOf(target)).toEqual(before);
    }
    // The backup's own verification catches it too.
    const verify = await runShell(
      backupStep({ source: join(root, 'altered-src'), files: FILES, recipients: [key.recipient], to }, context).verify.run,
      { RUNBOOK_OUTPUT: '/dev/null' },
    );
    expect(verify.code).not.toBe(0);
    expect(verify.stderr).toContain('its manifest says');
  });

  it('a manifest whose entries differ from the archive (mode, owner, size, one missing, one added) fails and writes nothing', async () => {
    const { to, folder } = await backedUp('manifest');
    const original = await readFile(join(folder, 'manifest.json'), 'utf8');
    const { target, before } = await existingTarget('manifest-target');
    type Entry = { path: string; mode: string; uid: number; gid: number; bytes: number };
    const edits: [string, (entries: Entry[]) => Entry[], string][] = [
      [
        'mode',
        (e) => e.map((x) => (x.path === '.env' ? { ...x, mode: '0644' } : x)),
        '.env: mode 0600 in the archive, 0644 in the manifest',
      ],
      [
        'owner',
        (e) => e.map((x) => (x.path === 'db/server.key' ? { ...x, uid: 0 } : x)),
        'db/server.key: owner 70:70 in the archive, 0:70 in the manifest',
      ],
      [
        'size',
        (e) => e.map((x) => (x.path === '.env' ? { ...x, bytes: 1 } : x)),
        `.env: ${SECRETS['.env']!.content.length} bytes in the archive, 1 in the manifest`,
      ],
      ['missing', (e) => e.filter((x) => x.path !== '.env'), "archive member .env: not among the manifest's entries"],
      [
        'added',
        (e) => [...e, { path: 'extra.env', mode: '0600', uid: 0, gid: 0, bytes: 3 }],
        'manifest entry "extra.env": not in the archive',
      ],
    ];
    for (const [what, edit, message] of edits) {
      const manifest = JSON.parse(original);
      manifest.entries = edit(manifest.entries);
      await writeFile(join(folder, 'manifest.json'), JSON.stringify(manifest));
      const restore = await runShell(restoreStep(to, target).run, { AGE_KEY: key.text, RUNBOOK_OUTPUT: '/dev/null' });
      expect(restore.code, what).not.toBe(0);
      expect(restore.stderr, what).toContain(message);
      expect(restore.stderr, what).toContain('does not hold exactly its manifest');
      expect(await treeOf(target), what).toEqual(before);
    }
  });

  /**
   * A backup folder made by hand the way an attacker holding only the public key could: a tar of
   * `members` (content, or a symbolic link's target; `as`: the name stored, kept verbatim with -P),
   * a SHA256SUMS of the regular ones, encrypted to the recipient, and a manifest that agrees with it.
   */
  const forge = async (dest: string, members: { name: string; as?: string; content?: string; link?: string }[]) => {
    const id = '2026-01-01T000000Z';
    const stage = join(dest, '..', `stage-${Math.random().toString(36).slice(2)}`);
    await mkdir(stage, { recursive: true });
    await mkdir(join(dest, id), { recursive: true });
    const sums: string[] = [];
    const entries = [];
    const transforms: string[] = [];
    for (const member of members) {
      const stored = member.as ?? member.name;
      if (member.as) transforms.push(`--transform=s,^${member.name}$,${member.as},`);
      if (member.link !== undefined) {
        await symlink(member.link, join(stage, member.name));
        entries.push({ path: stored, mode: '0777', uid: 0, gid: 0, bytes: 0 });
      } else {
        await writeFile(join(stage, member.name), member.content!, { mode: 0o644 });
        await chmod(join(stage, member.name), 0o644);
        sums.push(`${sha256(member.content!)}  ${stored}\n`);
        entries.push({ path: stored, mode: '0644', uid: 0, gid: 0, bytes: Buffer.byteLength(member.content!) });
      }
    }
    await writeFile(join(stage, 'SHA256SUMS'), sums.join(''), { mode: 0o600 });
    await chmod(join(stage, 'SHA256SUMS'), 0o600);
    const archive = join(dest, id, 'secrets.tar.age');
    execFileSync(
      'bash',
      [
        '-c',
        'tar -C "$1" -P --numeric-owner "${@:4}" -cf - SHA256SUMS $2 | age -r "$3" -o "$0"',
        archive,
        stage,
        members.map((m) => m.name).join(' '),
        key.recipient,
        ...transforms,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    const bytes = await readFile(archive);
    const manifest = {
      format: 'runbook-backup/1',
      kind: 'secrets',
      id,
      created: '2030-01-01T00:00:00Z',
      source: { path: '/srv/stack' },
      files: [{ name: 'secrets.tar.age', bytes: bytes.length, sha256: sha256(bytes) }],
      entries,
      recipients: [key.recipient],
      runbook: { name: 'forged' },
    };
    await writeFile(join(dest, id, 'manifest.json'), JSON.stringify(manifest));
    return { id, listing: execFileSync('bash', ['-c', 'age -d -i "$0" "$1" | tar -tvP', key.file, archive], { encoding: 'utf8' }) };
  };

  it('refuses a forged archive whose members leave the folder (.., an absolute path, through a symbolic link), though its manifest agrees: nothing is written anywhere', async () => {
    const base = join(root, 'forged');
    const outside = join(base, 'outside');
    await mkdir(outside, { recursive: true });
    const cases = [
      {
        what: 'dotdot',
        members: [{ name: 'escape', as: '../escape', content: 'EVIL=1\n' }],
        // Names in a manifest are checked before anything is downloaded (src/backup/trust.ts).
        message: 'unsafe name "../escape" in the manifest',
      },
      {
        what: 'deep dotdot',
        members: [
          { name: 'ok', as: 'supabase/.env', content: 'FINE=1\n' },
          { name: 'escape', as: 'supabase/../../escape', content: 'EVIL=1\n' },
        ],
        message: 'unsafe name "supabase/../../escape" in the manifest',
      },
      { what: 'absolute', members: [{ name: 'abs', as: join(outside, 'absolute'), content: 'EVIL=1\n' }], message: 'is absolute' },
      {
        what: 'symlink',
        members: [
          { name: 'lnk', link: outside },
          { name: 'x', as: 'lnk/through-link', content: 'EVIL=1\n' },
        ],
        message: 'archive member lnk: a symbolic link, not a regular file',
      },
    ];
    for (const { what, members, message } of cases) {
      const bucket = join(base, `${what.replace(/ /g, '-')}-bucket`);
      const { listing } = await forge(bucket, members);
      // The forgery really holds what it claims (GNU tar keeps ../ and / with -P).
      for (const member of members) expect(listing, what).toContain(member.as ?? member.name);
      const target = join(base, `${what.replace(/ /g, '-')}-target`, 'stack');
      await mkdir(target, { recursive: true });
      const restore = await runShell(restoreStep(bucket, target).run, { AGE_KEY: key.text, RUNBOOK_OUTPUT: '/dev/null' });
      expect(restore.code, what).not.toBe(0);
      expect(restore.stderr, what).toContain(message);
      if (what === 'symlink') expect(restore.stderr, what).toContain(`nothing was extracted, and nothing in ${target} was touched`);
      else expect(restore.stderr, what).toContain('no trusted complete backup');
      expect(await treeOf(target), what).toEqual({});
      expect(await treeOf(join(target, '..')), what).toEqual({ stack: { type: 'dir' } });
      expect(await treeOf(outside), what).toEqual({});
    }
    const written = Object.keys(await treeOf(base)).filter(
      (path) => !path.startsWith('stage-') && /(^|\/)(escape|absolute|through-link)$/.test(path),
    );
    expect(written).toEqual([]);
  });

  it('refuses to write through a symbolic link in the target folder, or over a folder, and touches nothing', async () => {
    const { to } = await backedUp('through');
    const elsewhere = join(root, 'through-elsewhere');
    await mkdir(elsewhere);
    const target = join(root, 'through-target');
    await mkdir(target);
    await symlink(elsewhere, join(target, 'supabase'));
    await mkdir(join(target, '.env'));
    const before = await treeOf(target);
    const restore = await runShell(restoreStep(to, target).run, { AGE_KEY: key.text, RUNBOOK_OUTPUT: '/dev/null' });
    expect(restore.code).not.toBe(0);
    expect(restore.stderr).toContain(`${target}/supabase: a symbolic link where the backup has a folder`);
    expect(restore.stderr).toContain(`${target}/.env: not a regular file, where the backup has one`);
    expect(await treeOf(target)).toEqual(before);
    expect(await treeOf(elsewhere)).toEqual({});
  });

  it('a restore that cannot give a file its owner (not root) fails and replaces nothing, not even the files staged before it, and leaves no temporary file', async () => {
    // .env belongs to uid 1000, who can stage it; db/server.key, next, to uid 70, whom uid 1000 cannot give it.
    const { to } = await backedUp('nonroot', [key.recipient], (source) => chown(join(source, '.env'), 1000, 1000));
    const target = join(root, 'nonroot-target');
    await mkdir(join(target, 'db'), { recursive: true });
    await writeFile(join(target, '.env'), 'OLD=1\n');
    for (const path of [target, join(target, 'db'), join(target, '.env')]) await chown(path, 1000, 1000);
    const before = await treeOf(target);
    const home = await mkdtemp(join(tmpdir(), 'secrets-nonroot-home-'));
    await chown(home, 1000, 1000);
    // The bucket and the key readable by uid 1000.
    await chmod(root, 0o755);
    const run = restoreStep(to, target).run;
    const result = await runShell('setpriv --reuid=1000 --regid=1000 --clear-groups bash -euo pipefail -c "$SCRIPT"', {
      SCRIPT: scriptFor(run),
      HOME: home,
      AGE_KEY: key.text,
      RUNBOOK_OUTPUT: '/dev/null',
    });
    await chmod(root, 0o700);
    await rm(home, { recursive: true, force: true });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(`cannot give ${target}/db/server.key its recorded owner 70:70`);
    expect(result.stderr).toContain('must run as root');
    expect(await treeOf(target)).toEqual(before);
  });

  it('the restore verification reports every difference by path', async () => {
    const { to } = await backedUp('differences');
    const target = join(root, 'differences-target');
    const expansion = restoreStep(to, target);
    const restore = await runStep(expansion, root, { AGE_KEY: key.text });
    expectOk(restore.verify, 'restore verify');
    await writeFile(join(target, '.env'), 'POSTGRES_PASSWORD=changed\n');
    await chmod(join(target, 'db/server.key'), 0o644);
    await chown(join(target, 'supabase/volumes/functions/.env'), 0, 0);
    await rm(join(target, 'db/server.key'));
    await symlink('/etc/hostname', join(target, 'db/server.key'));
    const verify = await runShell(expansion.verify.run, { AGE_KEY: key.text, RUNBOOK_OUTPUT: '/dev/null' });
    expect(verify.code).not.toBe(0);
    expect(verify.stderr).toContain(`secrets.restore: ${target} differs from backup`);
    expect(verify.stderr).toContain(`${target}/.env: content differs from the backup's (sha256)`);
    expect(verify.stderr).toContain(`${target}/db/server.key: a symbolic link, the backup has a regular file`);
    expect(verify.stderr).toContain(`${target}/supabase/volumes/functions/.env: owner 0:0, backup 999:999`);
    expectNoPlaintext('the verification', [output(verify)]);
    await rm(join(target, 'db/server.key'));
    await writeFile(join(target, 'db/server.key'), SECRETS['db/server.key']!.content, { mode: 0o644 });
    await chown(join(target, 'db/server.key'), 70, 70);
    await chmod(join(target, 'db/server.key'), 0o644);
    const mode = await runShell(expansion.verify.run, { AGE_KEY: key.text, RUNBOOK_OUTPUT: '/dev/null' });
    expect(mode.stderr).toContain(`${target}/db/server.key: mode 0644, backup 0400`);
  });

  it('a backup refuses, naming it, a listed file that is missing, a symbolic link, not a regular file or unreadable, and stores nothing', async () => {
    const source = join(root, 'refuse-src');
    await seedSecrets(source);
    await symlink(join(source, '.env'), join(source, 'link.env'));
    await mkdir(join(source, 'folder'));
    const to = join(root, 'refuse-bucket');
    const cases: [string, string][] = [
      ['missing.env', `${source}/missing.env is missing`],
      ['link.env', `${source}/link.env is a symbolic link, not a regular file`],
      ['folder', `${source}/folder is not a regular file`],
    ];
    for (const [file, message] of cases) {
      const run = await runShell(backupStep({ source, files: ['.env', file], recipients: [key.recipient], to }, context).run, {
        RUNBOOK_OUTPUT: '/dev/null',
      });
      expect(run.code, file).not.toBe(0);
      expect(run.stderr, file).toContain(`secrets.backup: ${message}`);
      expect(run.stderr, file).toContain('; nothing was stored');
      expect(await treeOf(to), file).toEqual({});
    }
    const notFolder = await runShell(
      backupStep({ source: join(source, 'nope'), files: ['.env'], recipients: [key.recipient], to }, context).run,
      { RUNBOOK_OUTPUT: '/dev/null' },
    );
    expect(notFolder.stderr).toContain('is no folder');
    // Unreadable: root reads anything, so the backup runs as uid 1000 here.
    const shared = await mkdtemp(join(tmpdir(), 'secrets-unreadable-'));
    await chmod(shared, 0o755);
    await seedSecrets(join(shared, 'src'));
    for (const path of ['src', 'src/supabase', 'src/supabase/volumes', 'src/supabase/volumes/functions', 'src/db'])
      await chmod(join(shared, path), 0o755);
    await chown(join(shared, 'src/.env'), 1000, 1000);
    await mkdir(join(shared, 'bucket'));
    await chown(join(shared, 'bucket'), 1000, 1000);
    const run = backupStep(
      { source: join(shared, 'src'), files: ['.env', 'db/server.key'], recipients: [key.recipient], to: join(shared, 'bucket') },
      context,
    ).run;
    const result = await runShell('setpriv --reuid=1000 --regid=1000 --clear-groups bash -euo pipefail -c "$SCRIPT"', {
      SCRIPT: scriptFor(run),
      HOME: shared,
      RUNBOOK_OUTPUT: '/dev/null',
    });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(`secrets.backup: ${join(shared, 'src')}/db/server.key cannot be read; nothing was stored`);
    expect(await readdir(join(shared, 'bucket'))).toEqual([]);
    await rm(shared, { recursive: true, force: true });
    expect(await treeOf(to)).toEqual({});
  });

  it('encrypts to every recipient (one X25519 stanza each, and either key decrypts); the verification fails on other recipients and on a file that is no age file', async () => {
    const { source, to, folder, id } = await backedUp('two', [key.recipient, other.recipient]);
    const header = (await readFile(join(folder, 'secrets.tar.age'), 'latin1')).split('\n--- ')[0]!;
    expect(header.split('\n').filter((line) => line.startsWith('-> X25519 '))).toHaveLength(2);
    for (const identity of [key, other]) {
      const target = join(root, `two-${identity === key ? 'operator' : 'stranger'}`);
      expectOk((await runStep(restoreStep(to, target, id), root, { AGE_KEY: identity.secretKey })).verify, 'restore');
      expect(await treeOf(target)).toMatchObject(expectedTree());
    }
    const verifyWith = (recipients: string[]) =>
      runShell(backupStep({ source, files: FILES, recipients, to }, context).verify.run, { RUNBOOK_OUTPUT: '/dev/null' });
    const fewer = await verifyWith([key.recipient]);
    expect(fewer.code).not.toBe(0);
    expect(fewer.stderr).toContain("the manifest's recipients are not the listed ones");
    const files = await runShell(
      backupStep({ source, files: ['.env'], recipients: [key.recipient, other.recipient], to }, context).verify.run,
      {
        RUNBOOK_OUTPUT: '/dev/null',
      },
    );
    expect(files.code).not.toBe(0);
    expect(files.stderr).toContain('"db/server.key": among the backup\'s entries, but not listed');

    // A file that is not age, with a manifest that matches its bytes: the header check refuses it.
    const fake = Buffer.from('not an age file at all\n');
    await writeFile(join(folder, 'secrets.tar.age'), fake);
    const manifest = JSON.parse(await readFile(join(folder, 'manifest.json'), 'utf8'));
    manifest.files = [{ name: 'secrets.tar.age', bytes: fake.length, sha256: sha256(fake) }];
    await writeFile(join(folder, 'manifest.json'), JSON.stringify(manifest));
    const notAge = await verifyWith([key.recipient, other.recipient]);
    expect(notAge.code).not.toBe(0);
    expect(notAge.stderr).toContain('does not start with the age header age-encryption.org/v1');
    // And one encrypted to a single recipient where the manifest claims two.
    execFileSync('bash', ['-c', 'printf x | age -r "$1" -o "$0"', join(folder, 'secrets.tar.age'), key.recipient]);
    const single = await readFile(join(folder, 'secrets.tar.age'));
    manifest.files = [{ name: 'secrets.tar.age', bytes: single.length, sha256: sha256(single) }];
    await writeFile(join(folder, 'manifest.json'), JSON.stringify(manifest));
    const stanzas = await verifyWith([key.recipient, other.recipient]);
    expect(stanzas.code).not.toBe(0);
    expect(stanzas.stderr).toContain('age header has 1 X25519 stanzas (1 stanzas in all); 2 recipients are listed');
  });

  describe('through S3', () => {
    let s3: S3Server;
    beforeAll(async () => {
      s3 = await startS3({ root });
    });
    afterAll(async () => {
      await s3?.stop();
    });

    it('round-trips through the S3 endpoint; no stored object holds the plaintext', async () => {
      const source = join(root, 's3-src');
      await seedSecrets(source);
      const to = s3.remotePath('secrets/stack');
      const env = s3.rcloneEnv();
      const backup = await runStep(backupStep({ source, files: FILES, recipients: [key.recipient], to }, context), root, env);
      expectOk(backup.run, 'backup');
      expectOk(backup.verify, 'backup verify');
      const id = backup.outputs.backup!;
      expect(await readFile(s3.objectFile(`secrets/stack/${id}/secrets.tar.age`)).then((b) => b.subarray(0, 21).toString())).toBe(
        'age-encryption.org/v1',
      );
      expectNoPlaintext('the S3 store', await contentsUnder(s3.dir));
      const target = join(root, 's3-restored');
      const restore = await runStep(restoreStep(to, target), root, { ...env, AGE_KEY: key.text });
      expectOk(restore.run, 'restore');
      expectOk(restore.verify, 'restore verify');
      expect(restore.outputs.backup).toBe(id);
      expect(await treeOf(target)).toMatchObject(expectedTree());
      expectNoPlaintext('the steps', [output(backup.run), output(backup.verify), output(restore.run), output(restore.verify)]);
    });
  });
});
