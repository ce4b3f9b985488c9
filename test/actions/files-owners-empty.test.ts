// files.backup and files.restore keep what a file is besides its bytes (owner, group, mode of files
// and folders, empty folders too), which rclone and S3 do not store; and an empty or missing source
// never makes a backup that counts. Giving files the owners 999 and 1000 needs root, as in production.
import { chmod, chown, lstat, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { filesBackup } from '../../src/actions/files.backup/index.js';
import { filesRestore } from '../../src/actions/files.restore/index.js';
import { scriptFor } from '../../src/actions/library.js';
import { seedFiles } from '../../tools/stack/files.js';
import { findSystemBinary, systemPath } from '../../tools/stack/run.js';
import { startS3, type S3Server } from '../../tools/stack/s3.js';
import { expectOk, requireBinaries, runShell, runStep } from '../backup/shell.js';
import { handMadeManifest } from '../helpers/manifest.js';

const context = { runbook: 'files-test', stepId: 'files', secrets: [] };

/** Fails (never skips) when the test cannot give files other owners. */
const requireRoot = () => {
  if (process.getuid?.() !== 0) throw new Error('this test gives files the owners 999 and 1000, which needs root: run it as root');
};

/** What the manifest and the restore keep of an entry besides its bytes. */
interface Meta {
  type: 'file' | 'dir';
  uid: number;
  gid: number;
  mode: string;
}

const octal = (mode: number) => (mode & 0o7777).toString(8).padStart(4, '0');

/** Every file and folder under `dir` (`.` for `dir` itself) with its owner, group and mode. */
const statTree = async (dir: string): Promise<Record<string, Meta>> => {
  const tree: Record<string, Meta> = {};
  const visit = async (path: string, name: string) => {
    const info = await lstat(path);
    tree[name] = { type: info.isDirectory() ? 'dir' : 'file', uid: info.uid, gid: info.gid, mode: octal(info.mode) };
    if (!info.isDirectory()) return;
    for (const entry of await readdir(path)) await visit(join(path, entry), name === '.' ? entry : `${name}/${entry}`);
  };
  await visit(dir, '.');
  return tree;
};

/** Creates `path` (a folder when it ends in `/`), then gives it its owner and mode: chown first, as it clears set-id bits. */
const place = async (root: string, path: string, uid: number, gid: number, mode: number, content = `${path}\n`) => {
  const full = join(root, path);
  if (path.endsWith('/')) await mkdir(full, { recursive: true });
  else await writeFile(full, content);
  await chown(full, uid, gid);
  await chmod(full, mode);
};

/**
 * A volume the way Supabase storage and Gitea leave it: uid 999 and 1000, modes 0640, 0600, 0755,
 * 0444, folders 0700 and 2775, an empty folder, names with spaces and non-ASCII letters.
 */
const seedOwned = async (root: string) => {
  await place(root, 'bucket/', 999, 999, 0o700);
  await place(root, 'bucket/secret.key', 999, 999, 0o600);
  await place(root, 'bucket/avatar ünïcode café 日本.png', 999, 999, 0o640);
  await place(root, 'shared/', 1000, 1000, 0o2775);
  await place(root, 'shared/run.sh', 1000, 1000, 0o755, '#!/bin/sh\necho hi\n');
  await place(root, 'shared/readme.txt', 0, 1000, 0o444);
  await place(root, 'shared/empty folder/', 999, 1000, 0o750);
  await place(root, 'plain.txt', 1000, 999, 0o640);
  // The volume's own folder: Gitea's is uid 1000.
  await chown(root, 1000, 1000);
  await chmod(root, 0o750);
};

describe('files.backup and files.restore: owners, groups and modes', () => {
  let root: string;
  beforeAll(async () => {
    requireBinaries('rclone', 'jq', 'sha256sum', 'cmp', 'find', 'setpriv');
    root = await mkdtemp(join(tmpdir(), 'files-owners-'));
    // The non-root restore below reads backups under it.
    await chmod(root, 0o755);
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  /** A seeded volume backed up to a local destination: its source, destination and backup id. */
  const backedUp = async (name: string) => {
    requireRoot();
    const source = join(root, `${name}-src`);
    await mkdir(source);
    await seedOwned(source);
    const to = join(root, `${name}-dest`);
    const backup = await runStep(filesBackup.expand({ source, to }, context), root);
    expectOk(backup.run, 'backup');
    expectOk(backup.verify, 'backup verify');
    return { source, to, id: backup.outputs.backup! };
  };

  it('records every file and folder with numeric uid, gid and mode, the empty folder and the source folder too', async () => {
    const { to, id } = await backedUp('manifest');
    const manifest = JSON.parse(await readFile(join(to, id, 'manifest.json'), 'utf8'));
    expect(manifest.files.map(({ name, uid, gid, mode }: Record<string, unknown>) => ({ name, uid, gid, mode }))).toEqual([
      { name: 'files/bucket/avatar ünïcode café 日本.png', uid: 999, gid: 999, mode: '0640' },
      { name: 'files/bucket/secret.key', uid: 999, gid: 999, mode: '0600' },
      { name: 'files/plain.txt', uid: 1000, gid: 999, mode: '0640' },
      { name: 'files/shared/readme.txt', uid: 0, gid: 1000, mode: '0444' },
      { name: 'files/shared/run.sh', uid: 1000, gid: 1000, mode: '0755' },
    ]);
    expect(manifest.dirs).toEqual([
      { name: 'files', uid: 1000, gid: 1000, mode: '0750' },
      { name: 'files/bucket', uid: 999, gid: 999, mode: '0700' },
      { name: 'files/shared', uid: 1000, gid: 1000, mode: '2775' },
      { name: 'files/shared/empty folder', uid: 999, gid: 1000, mode: '0750' },
    ]);
  });

  it('restores owners, groups and modes of files and folders, and the empty folder', async () => {
    const { source, to } = await backedUp('local');
    const target = join(root, 'local-restored');
    const restore = await runStep(filesRestore.expand({ allow_unsigned: true, from: to, to: target }, context), root);
    expectOk(restore.run, 'restore');
    expectOk(restore.verify, 'restore verify');
    expect(await statTree(target)).toEqual(await statTree(source));
  });

  it('gives files and folders already in the tree their recorded owners and modes, and keeps files the backup lacks', async () => {
    const { source, to } = await backedUp('over');
    const target = join(root, 'over-restored');
    await place(target, 'shared/', 0, 0, 0o755);
    await place(target, 'shared/run.sh', 0, 0, 0o644, 'old\n');
    await place(target, 'shared/empty folder/', 0, 0, 0o2777);
    await place(target, 'extra.txt', 0, 0, 0o600);
    const restore = await runStep(filesRestore.expand({ allow_unsigned: true, from: to, to: target }, context), root);
    expectOk(restore.run, 'restore');
    expectOk(restore.verify, 'restore verify');
    const { 'extra.txt': extra, ...restored } = await statTree(target);
    expect(restored).toEqual(await statTree(source));
    expect(extra).toEqual({ type: 'file', uid: 0, gid: 0, mode: '0600' });
  });

  it('restore verification names the files and folders whose owner, group, mode, size or content differ', async () => {
    const { to } = await backedUp('differ');
    const target = join(root, 'differ-restored');
    const expansion = filesRestore.expand({ allow_unsigned: true, from: to, to: target }, context);
    const restore = await runStep(expansion, root);
    expectOk(restore.verify, 'restore verify');
    await chmod(join(target, 'bucket/secret.key'), 0o644);
    await chown(join(target, 'plain.txt'), 0, 0);
    await chmod(join(target, 'shared'), 0o755);
    await rm(join(target, 'shared/empty folder'), { recursive: true });
    await writeFile(join(target, 'shared/readme.txt'), 'shared/readme.txX\n');
    await rm(join(target, 'bucket/avatar ünïcode café 日本.png'));
    const verify = await runShell(expansion.verify.run, { RUNBOOK_OUTPUT: '/dev/null' });
    expect(verify.code).not.toBe(0);
    expect(verify.stderr).toContain('bucket/secret.key: mode 0644, backup 0600');
    expect(verify.stderr).toContain('plain.txt: owner 0:0, backup 1000:999');
    expect(verify.stderr).toContain('shared: mode 0755, backup 2775');
    expect(verify.stderr).toContain('shared/empty folder: missing');
    expect(verify.stderr).toContain('shared/readme.txt: sha256 differs');
    expect(verify.stderr).toContain('bucket/avatar ünïcode café 日本.png: missing');
  });

  it('restore verification lists the first 20 differences, then how many more', async () => {
    requireRoot();
    const source = join(root, 'many-src');
    await seedFiles({ dir: source, files: 30, bytes: 30_000, seed: 'many' });
    await runShell(`chown -R 999:999 '${source}' && find '${source}' -type f -exec chmod 0640 {} +`);
    const to = join(root, 'many-dest');
    expectOk((await runStep(filesBackup.expand({ source, to }, context), root)).verify, 'backup verify');
    const target = join(root, 'many-restored');
    const expansion = filesRestore.expand({ allow_unsigned: true, from: to, to: target }, context);
    expectOk((await runStep(expansion, root)).verify, 'restore verify');
    await runShell(`find '${target}' -type f -exec chmod 0666 {} +`);
    const verify = await runShell(expansion.verify.run, { RUNBOOK_OUTPUT: '/dev/null' });
    expect(verify.code).not.toBe(0);
    expect(verify.stderr.match(/: mode 0666, backup 0640/g)).toHaveLength(20);
    expect(verify.stderr).toContain('and 10 more');
  });

  it('restores a manifest without owners (an older backup) as before: no owner changed, verification passes', async () => {
    const { to, id } = await backedUp('old');
    const manifestPath = join(to, id, 'manifest.json');
    const manifest = JSON.parse(await readFile(manifestPath, 'utf8'));
    delete manifest.dirs;
    manifest.files = manifest.files.map(({ name, bytes, sha256 }: Record<string, unknown>) => ({ name, bytes, sha256 }));
    await writeFile(manifestPath, JSON.stringify(manifest));
    const target = join(root, 'old-restored');
    const restore = await runStep(filesRestore.expand({ allow_unsigned: true, from: to, to: target }, context), root);
    expectOk(restore.run, 'restore');
    expectOk(restore.verify, 'restore verify');
    const tree = await statTree(target);
    expect(tree['bucket/secret.key']).toMatchObject({ uid: 0, gid: 0 });
    expect(tree['shared/empty folder']).toBeUndefined();
  });

  it('a restore that cannot give files their owners (not root) fails and says why', async () => {
    const { to } = await backedUp('nonroot');
    const target = join(root, 'nonroot-restored');
    await mkdir(target);
    await chown(target, 1000, 1000);
    const home = await mkdtemp(join(tmpdir(), 'files-owners-home-'));
    await chown(home, 1000, 1000);
    const run = filesRestore.expand({ allow_unsigned: true, from: to, to: target }, context).run;
    const result = await runShell('setpriv --reuid=1000 --regid=1000 --clear-groups bash -euo pipefail -c "$SCRIPT"', {
      SCRIPT: scriptFor(run),
      HOME: home,
      RUNBOOK_OUTPUT: '/dev/null',
    });
    await rm(home, { recursive: true, force: true });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('cannot give the restored files and folders their recorded owners');
  });

  it('a file created between the two listings of a round (rclone saw it, find did not) makes the backup list again, not fail', async () => {
    requireRoot();
    const source = join(root, 'late-src');
    await mkdir(source);
    await place(source, 'early.txt', 999, 999, 0o640);
    await place(source, 'late.txt', 1000, 1000, 0o600);
    // The first find misses late.txt, as if it were created just after find read its folder.
    const fake = join(root, 'late-bin');
    await mkdir(fake);
    await writeFile(
      join(fake, 'find'),
      `#!/bin/bash\nif [ -e "$0.seen" ]; then exec "${findSystemBinary('find')}" "$@"; fi\ntouch "$0.seen"\n"${findSystemBinary('find')}" "$@" | grep -zv late.txt\n`,
      { mode: 0o755 },
    );
    const to = join(root, 'late-dest');
    const env = { PATH: `${fake}:${systemPath()}` };
    const backup = await runStep(filesBackup.expand({ source, to }, context), root, env);
    expectOk(backup.run, 'backup');
    const manifest = JSON.parse(await readFile(join(to, backup.outputs.backup!, 'manifest.json'), 'utf8'));
    expect(manifest.files.find((f: { name: string }) => f.name === 'files/late.txt')).toMatchObject({ uid: 1000, gid: 1000, mode: '0600' });
  });

  it('refuses a manifest whose names leave the tree, before creating or changing anything', async () => {
    const { to, id } = await backedUp('escape');
    const manifestPath = join(to, id, 'manifest.json');
    const manifest = JSON.parse(await readFile(manifestPath, 'utf8'));
    manifest.dirs.push({ name: 'files/../escaped', uid: 999, gid: 999, mode: '0777' });
    await writeFile(manifestPath, JSON.stringify(manifest));
    const restore = await runStep(
      filesRestore.expand({ allow_unsigned: true, from: to, to: join(root, 'escape-restored') }, context),
      root,
    );
    expect(restore.run.code).not.toBe(0);
    expect(restore.run.stderr).toContain('unsafe name "files/../escaped" in the manifest');
    expect(await readdir(root)).not.toContain('escaped');
  });

  describe('through S3', () => {
    let s3: S3Server;
    beforeAll(async () => {
      s3 = await startS3({ root });
    });
    afterAll(async () => {
      await s3?.stop();
    });

    it('restores owners, groups, modes and the empty folder, which S3 does not store', async () => {
      requireRoot();
      const source = join(root, 's3-src');
      await mkdir(source);
      await seedOwned(source);
      const to = s3.remotePath('files/owned');
      const env = s3.rcloneEnv();
      const backup = await runStep(filesBackup.expand({ source, to }, context), root, env);
      expectOk(backup.run, 'backup');
      expectOk(backup.verify, 'backup verify');
      const target = join(root, 's3-restored');
      const restore = await runStep(filesRestore.expand({ allow_unsigned: true, from: to, to: target }, context), root, env);
      expectOk(restore.run, 'restore');
      expectOk(restore.verify, 'restore verify');
      expect(await statTree(target)).toEqual(await statTree(source));
    });

    it('with allow_empty: true, backs up and verifies an empty folder through S3', async () => {
      const source = join(root, 's3-empty');
      await mkdir(source);
      const env = s3.rcloneEnv();
      const backup = await runStep(filesBackup.expand({ source, to: s3.remotePath('files/empty'), allow_empty: true }, context), root, env);
      expectOk(backup.run, 'backup');
      expectOk(backup.verify, 'backup verify');
    });
  });
});

describe('files.backup and files.restore: no empty backup counts', () => {
  let root: string;
  beforeAll(async () => {
    requireBinaries('rclone', 'jq', 'sha256sum', 'cmp', 'find');
    root = await mkdtemp(join(tmpdir(), 'files-empty-'));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  /** Backs up `source` and expects a refusal that stored nothing. */
  const expectRefused = async (source: string, to: string, message: string, allowEmpty?: boolean) => {
    const backup = await runStep(filesBackup.expand({ source, to, allow_empty: allowEmpty }, context), root);
    expect(backup.run.code).not.toBe(0);
    expect(backup.run.stderr).toContain(message);
    expect(await readdir(to).catch(() => [])).toEqual([]);
  };

  it('refuses an empty source folder: nothing is stored', async () => {
    const source = join(root, 'empty-src');
    await mkdir(source);
    await expectRefused(source, join(root, 'empty-dest'), `${source} is empty or not mounted; nothing was stored`);
  });

  it('refuses a source of empty folders only, and one whose every file is excluded', async () => {
    const folders = join(root, 'folders-src');
    await mkdir(join(folders, 'a/b'), { recursive: true });
    await expectRefused(folders, join(root, 'folders-dest'), 'is empty or not mounted; nothing was stored');
    const excluded = join(root, 'excluded-src');
    await mkdir(join(excluded, 'derivatives'), { recursive: true });
    await writeFile(join(excluded, 'derivatives/thumb.jpg'), 'x');
    const backup = await runStep(
      filesBackup.expand({ source: excluded, to: join(root, 'excluded-dest'), exclude: ['derivatives/**'] }, context),
      root,
    );
    expect(backup.run.code).not.toBe(0);
    expect(backup.run.stderr).toContain('is empty or not mounted; nothing was stored');
  });

  it('refuses a missing source, also with allow_empty', async () => {
    const source = join(root, 'not-there');
    await expectRefused(source, join(root, 'missing-dest'), `${source} is no folder (missing, or not mounted); nothing was stored`);
    await expectRefused(source, join(root, 'missing-dest'), `${source} is no folder (missing, or not mounted); nothing was stored`, true);
  });

  it('with allow_empty: true, backs up an empty folder; its verification without allow_empty fails, and a restore of it does not verify', async () => {
    const source = join(root, 'allowed-src');
    await mkdir(source);
    const to = join(root, 'allowed-dest');
    const backup = await runStep(filesBackup.expand({ source, to, allow_empty: true }, context), root);
    expectOk(backup.run, 'backup');
    expectOk(backup.verify, 'backup verify');
    const manifest = JSON.parse(await readFile(join(to, backup.outputs.backup!, 'manifest.json'), 'utf8'));
    expect(manifest.files).toEqual([]);

    const strict = await runShell(filesBackup.expand({ source, to }, context).verify.run, { RUNBOOK_OUTPUT: '/dev/null' });
    expect(strict.code).not.toBe(0);
    expect(strict.stderr).toContain('lists no files');

    const restore = await runStep(
      filesRestore.expand({ allow_unsigned: true, from: to, to: join(root, 'allowed-restored') }, context),
      root,
    );
    expectOk(restore.run, 'restore');
    expect(restore.verify?.code).not.toBe(0);
    expect(restore.verify?.stderr).toContain('lists no files');
  });

  it('restore verification fails on a manifest with `files: []`, saying so', async () => {
    const to = join(root, 'handmade');
    const id = '2024-01-01T000000Z';
    await mkdir(join(to, id), { recursive: true });
    await writeFile(join(to, id, 'manifest.json'), JSON.stringify(handMadeManifest('files', id, { files: [] })));
    const target = join(root, 'handmade-restored');
    await mkdir(target);
    const verify = await runShell(filesRestore.expand({ allow_unsigned: true, from: to, to: target, backup: id }, context).verify.run, {
      RUNBOOK_OUTPUT: '/dev/null',
    });
    expect(verify.code).not.toBe(0);
    expect(verify.stderr).toContain(`backup ${id} lists no files`);
  });

  it('expands allow_empty to ALLOW_EMPTY for the run and the verification', () => {
    const expansion = filesBackup.expand({ source: '/srv', to: '/backup', allow_empty: true }, context);
    expect(expansion.run).toContain('ALLOW_EMPTY=true\n');
    expect(expansion.verify.run).toContain('ALLOW_EMPTY=true\n');
    expect(filesBackup.expand({ source: '/srv', to: '/backup' }, context).run).toContain('ALLOW_EMPTY=false\n');
  });
});
