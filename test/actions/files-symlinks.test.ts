// files.backup and files.restore keep symbolic links as links: their exact target text (relative,
// absolute, dangling, to a folder: never followed) and their owner, through a local destination and
// through S3 (where rclone stores a link as an object NAME.rclonelink holding its target). A backup
// never silently stores fewer entries than its source has, and a restore never changes what a link
// points to. Giving links the owner 1000 needs root, as in production.
import { createHash } from 'node:crypto';
import { chmod, lchown, lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Ajv2020Module from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { filesBackup } from '../../src/actions/files.backup/index.js';
import { filesRestore } from '../../src/actions/files.restore/index.js';
import { startS3, type S3Server } from '../../tools/stack/s3.js';
import { expectOk, requireBinaries, runShell, runStep } from '../backup/shell.js';
import { fileEntry, handMadeManifest } from '../helpers/manifest.js';

const context = { runbook: 'files-test', stepId: 'files', secrets: [] };

/** Fails (never skips) when the test cannot give links other owners. */
const requireRoot = () => {
  if (process.getuid?.() !== 0) throw new Error('this test gives symbolic links the owner 1000, which needs root: run it as root');
};

/** schemas/manifest.schema.json, compiled strictly (unknown fields of a file entry are errors). */
const validateManifest = new Ajv2020Module.default({ allErrors: true, strict: false }).compile(
  JSON.parse(await readFile(new URL('../../schemas/manifest.schema.json', import.meta.url), 'utf8')),
);

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** What the restore must keep of an entry: a link's target and owner, a file's or folder's owner and mode. */
type Entry =
  | { type: 'link'; target: string; uid: number; gid: number }
  | { type: 'file' | 'dir'; uid: number; gid: number; mode: string; content?: string };

/** Every entry under `dir` (`.` for `dir` itself), links not followed. */
const statTree = async (dir: string): Promise<Record<string, Entry>> => {
  const tree: Record<string, Entry> = {};
  const visit = async (path: string, name: string) => {
    const info = await lstat(path);
    if (info.isSymbolicLink()) {
      tree[name] = { type: 'link', target: await readlink(path), uid: info.uid, gid: info.gid };
      return;
    }
    const mode = (info.mode & 0o7777).toString(8).padStart(4, '0');
    if (!info.isDirectory()) {
      tree[name] = { type: 'file', uid: info.uid, gid: info.gid, mode, content: await readFile(path, 'utf8') };
      return;
    }
    tree[name] = { type: 'dir', uid: info.uid, gid: info.gid, mode };
    for (const entry of await readdir(path)) await visit(join(path, entry), name === '.' ? entry : `${name}/${entry}`);
  };
  await visit(dir, '.');
  return tree;
};

/**
 * A tree with every kind of link: relative (`a/link -> f`), absolute (`abs -> /etc/hostname`),
 * dangling (`gone -> nowhere`), to a folder inside (`dirlink -> a`), owned by 1000 (`a/owned`), a
 * link to a folder outside the tree (`outside`, whose owner and mode a restore must not touch), and
 * a link under `skip/`, which the backups exclude.
 */
const seedLinks = async (source: string, outside: string) => {
  await mkdir(join(source, 'a'), { recursive: true });
  await writeFile(join(source, 'a/f'), 'content\n');
  await chmod(join(source, 'a/f'), 0o640);
  await symlink('f', join(source, 'a/link'));
  await symlink('f', join(source, 'a/owned'));
  await lchown(join(source, 'a/owned'), 1000, 1000);
  await symlink('/etc/hostname', join(source, 'abs'));
  await symlink('nowhere', join(source, 'gone'));
  await symlink('a', join(source, 'dirlink'));
  await symlink(outside, join(source, 'outside'));
  await mkdir(join(source, 'skip'));
  await writeFile(join(source, 'skip/x'), 'x\n');
  await symlink('../a/f', join(source, 'skip/link'));
};

/** A folder outside the tree that restores must leave exactly as it is: root's, 0700, a 0600 file. */
const seedOutside = async (outside: string) => {
  await mkdir(outside);
  await chmod(outside, 0o700);
  await writeFile(join(outside, 'secret'), 'secret\n');
  await chmod(join(outside, 'secret'), 0o600);
};

/** The manifest entries the seeded links must have (the files entries of links, in name order). */
const linkEntries = (outside: string) => [
  { name: 'files/a/link', type: 'symlink', target: 'f', bytes: 1, sha256: sha256('f'), uid: 0, gid: 0 },
  { name: 'files/a/owned', type: 'symlink', target: 'f', bytes: 1, sha256: sha256('f'), uid: 1000, gid: 1000 },
  { name: 'files/abs', type: 'symlink', target: '/etc/hostname', bytes: 13, sha256: sha256('/etc/hostname'), uid: 0, gid: 0 },
  { name: 'files/dirlink', type: 'symlink', target: 'a', bytes: 1, sha256: sha256('a'), uid: 0, gid: 0 },
  { name: 'files/gone', type: 'symlink', target: 'nowhere', bytes: 7, sha256: sha256('nowhere'), uid: 0, gid: 0 },
  {
    name: 'files/outside',
    type: 'symlink',
    target: outside,
    bytes: Buffer.byteLength(outside),
    sha256: sha256(outside),
    uid: 0,
    gid: 0,
  },
];

describe('files.backup and files.restore: symbolic links', () => {
  let root: string;
  let s3: S3Server;
  beforeAll(async () => {
    requireBinaries('rclone', 'jq', 'sha256sum', 'cmp', 'find');
    root = await mkdtemp(join(tmpdir(), 'files-links-'));
    s3 = await startS3({ root });
  });
  afterAll(async () => {
    await s3?.stop();
    await rm(root, { recursive: true, force: true });
  });

  const destinations = [
    { name: 'local', to: (name: string) => join(root, `${name}-dest`), env: (): Record<string, string> => ({}) },
    { name: 'S3', to: (name: string) => s3.remotePath(`files/${name}`), env: () => s3.rcloneEnv() },
  ];

  for (const destination of destinations) {
    describe(`through a ${destination.name} destination`, () => {
      it('stores every link with its target and owner, never follows one, and restores them as links; a link to a folder outside keeps its target untouched', async () => {
        requireRoot();
        const name = `all-${destination.name}`;
        const source = join(root, `${name}-src`);
        const outside = join(root, `${name}-outside`);
        await seedOutside(outside);
        await seedLinks(source, outside);
        const outsideBefore = await statTree(outside);
        const to = destination.to(name);
        const env = destination.env();
        const backup = await runStep(filesBackup.expand({ source, to, exclude: ['skip/**'] }, context), root, env);
        expectOk(backup.run, 'backup');
        expectOk(backup.verify, 'backup verify');
        expect(backup.run.stderr).not.toContain("Can't follow symlink");

        const id = backup.outputs.backup!;
        const manifest = JSON.parse((await runShell(`rclone cat '${to}/${id}/manifest.json'`, env)).stdout);
        expect(manifest.files.filter((file: { type?: string }) => file.type === 'symlink')).toEqual(linkEntries(outside));
        // The file the links point to is stored once, never through dirlink or outside.
        expect(manifest.files.map((file: { name: string }) => file.name)).toEqual([
          'files/a/f',
          'files/a/link',
          'files/a/owned',
          'files/abs',
          'files/dirlink',
          'files/gone',
          'files/outside',
        ]);
        expect(manifest.dirs.map((dir: { name: string }) => dir.name)).toEqual(['files', 'files/a']);
        expect(validateManifest(manifest) ? [] : validateManifest.errors).toEqual([]);
        // The schema refuses a link with a mode (restores never chmod one) and a file with a target.
        const link = manifest.files.find((file: { name: string }) => file.name === 'files/a/link');
        expect(validateManifest({ ...manifest, files: [{ ...link, mode: '0777' }] })).toBe(false);
        expect(validateManifest({ ...manifest, files: [{ ...manifest.files[0], target: 'f' }] })).toBe(false);
        expect(validateManifest({ ...manifest, files: [{ ...link, type: 'file' }] })).toBe(false);

        const target = join(root, `${name}-restored`);
        const restore = await runStep(filesRestore.expand({ allow_unsigned: true, from: to, to: target }, context), root, env);
        expectOk(restore.run, 'restore');
        expectOk(restore.verify, 'restore verify');
        const { skip, 'skip/x': skipped, 'skip/link': skippedLink, ...expected } = await statTree(source);
        expect([skip?.type, skipped?.type, skippedLink?.type]).toEqual(['dir', 'file', 'link']);
        expect(await statTree(target)).toEqual(expected);
        expect(await statTree(outside)).toEqual(outsideBefore);
      });

      it('restore verification names a link whose target or owner differs, or that is no link', async () => {
        requireRoot();
        const name = `differ-${destination.name}`;
        const source = join(root, `${name}-src`);
        const outside = join(root, `${name}-outside`);
        await seedOutside(outside);
        await seedLinks(source, outside);
        const to = destination.to(name);
        const env = destination.env();
        expectOk((await runStep(filesBackup.expand({ source, to, exclude: ['skip/**'] }, context), root, env)).verify, 'backup verify');
        const target = join(root, `${name}-restored`);
        const expansion = filesRestore.expand({ allow_unsigned: true, from: to, to: target }, context);
        expectOk((await runStep(expansion, root, env)).verify, 'restore verify');
        await rm(join(target, 'a/link'));
        await symlink('elsewhere', join(target, 'a/link'));
        await lchown(join(target, 'a/owned'), 0, 0);
        await rm(join(target, 'gone'));
        await writeFile(join(target, 'gone'), 'nowhere');
        await rm(join(target, 'abs'));
        const verify = await runShell(expansion.verify.run, { ...env, RUNBOOK_OUTPUT: '/dev/null' });
        expect(verify.code).not.toBe(0);
        expect(verify.stderr).toContain(`${target}/a/link: target elsewhere, backup f`);
        expect(verify.stderr).toContain(`${target}/a/owned: owner 0:0, backup 1000:1000`);
        expect(verify.stderr).toContain(`${target}/gone: not a symbolic link`);
        expect(verify.stderr).toContain(`${target}/abs: missing`);
      });

      it('backs up a source that holds only symbolic links: they are entries, not an empty source', async () => {
        const name = `only-${destination.name}`;
        const source = join(root, `${name}-src`);
        await mkdir(source);
        await symlink('/srv/data', join(source, 'current'));
        const to = destination.to(name);
        const env = destination.env();
        const backup = await runStep(filesBackup.expand({ source, to }, context), root, env);
        expectOk(backup.run, 'backup');
        expectOk(backup.verify, 'backup verify');
        const target = join(root, `${name}-restored`);
        const restore = await runStep(filesRestore.expand({ allow_unsigned: true, from: to, to: target }, context), root, env);
        expectOk(restore.run, 'restore');
        expectOk(restore.verify, 'restore verify');
        expect(await readlink(join(target, 'current'))).toBe('/srv/data');
      });

      it('refuses a source with a file whose name ends in .rclonelink, which rclone cannot tell from a link: nothing is stored', async () => {
        const name = `suffix-${destination.name}`;
        const to = destination.to(name);
        const env = destination.env();
        for (const [index, seed] of [
          async (source: string) => writeFile(join(source, 'x.rclonelink'), 'real\n'),
          async (source: string) => {
            await symlink('t', join(source, 'y'));
            await writeFile(join(source, 'y.rclonelink'), 'other\n');
          },
        ].entries()) {
          const source = join(root, `${name}-src-${index}`);
          await mkdir(source);
          await writeFile(join(source, 'plain.txt'), 'plain\n');
          await seed(source);
          const backup = await runStep(filesBackup.expand({ source, to }, context), root, env);
          expect(backup.run.code).not.toBe(0);
          expect(backup.run.stderr).toMatch(/files\/[xy]\.rclonelink: its name ends in \.rclonelink/);
          expect(backup.run.stderr).toContain('nothing was stored');
          expect((await runShell(`rclone lsf -R '${to}' 2>/dev/null || true`, env)).stdout).toBe('');
        }
      });
    });
  }

  it('a link under an excluded path is neither stored nor reported', async () => {
    const source = join(root, 'excluded-src');
    await mkdir(join(source, 'keep'), { recursive: true });
    await writeFile(join(source, 'keep/f'), 'f\n');
    await mkdir(join(source, 'derivatives'));
    await symlink('../keep/f', join(source, 'derivatives/link'));
    const to = join(root, 'excluded-dest');
    const backup = await runStep(filesBackup.expand({ source, to, exclude: ['derivatives/**'] }, context), root);
    expectOk(backup.run, 'backup');
    expectOk(backup.verify, 'backup verify');
    const manifest = JSON.parse(await readFile(join(to, backup.outputs.backup!, 'manifest.json'), 'utf8'));
    expect(manifest.files.map((file: { name: string }) => file.name)).toEqual(['files/keep/f']);
  });

  it('refuses to restore into a tree where a symbolic link stands for a folder or file of the backup, before writing through it', async () => {
    requireRoot();
    const source = join(root, 'through-src');
    await mkdir(join(source, 'etc'), { recursive: true });
    await writeFile(join(source, 'etc/passwd'), 'restored\n');
    await writeFile(join(source, 'plain'), 'restored\n');
    const to = join(root, 'through-dest');
    expectOk((await runStep(filesBackup.expand({ source, to }, context), root)).verify, 'backup verify');
    const outside = join(root, 'through-outside');
    await seedOutside(outside);
    await writeFile(join(outside, 'passwd'), 'outside\n');
    await chmod(join(outside, 'passwd'), 0o600);
    const before = await statTree(outside);
    const target = join(root, 'through-restored');
    await mkdir(target);
    await symlink(outside, join(target, 'etc'));
    await symlink(join(outside, 'secret'), join(target, 'plain'));
    const restore = await runStep(filesRestore.expand({ allow_unsigned: true, from: to, to: target }, context), root);
    expect(restore.run.code).not.toBe(0);
    expect(restore.run.stderr).toContain(`${target}/etc: a symbolic link where the backup has a folder`);
    expect(restore.run.stderr).toContain(`${target}/plain: a symbolic link where the backup has a file`);
    expect(await statTree(outside)).toEqual(before);
  });

  it('never gives a link a mode, even one a manifest records: chmod would change the folder outside it points to', async () => {
    requireRoot();
    const source = join(root, 'mode-src');
    const outside = join(root, 'mode-outside');
    await seedOutside(outside);
    await mkdir(source);
    await writeFile(join(source, 'f'), 'f\n');
    await symlink(outside, join(source, 'outside'));
    const to = join(root, 'mode-dest');
    const backup = await runStep(filesBackup.expand({ source, to }, context), root);
    expectOk(backup.verify, 'backup verify');
    const manifestPath = join(to, backup.outputs.backup!, 'manifest.json');
    const manifest = JSON.parse(await readFile(manifestPath, 'utf8'));
    for (const file of manifest.files) if (file.type === 'symlink') file.mode = '0777';
    await writeFile(manifestPath, JSON.stringify(manifest));
    const before = await statTree(outside);
    // Such a manifest does not have the manifest's shape (a link has no mode): the backup is not
    // trusted at all, so nothing is restored, let alone chmod'ed through the link.
    const restore = await runStep(filesRestore.expand({ allow_unsigned: true, from: to, to: join(root, 'mode-restored') }, context), root);
    expect(restore.run.code).not.toBe(0);
    expect(restore.run.stderr).toMatch(/not a backup manifest/);
    expect(await statTree(outside)).toEqual(before);
  });

  it('restores an older backup that holds a regular file named NAME.rclonelink as that file, not as a link', async () => {
    const to = join(root, 'older');
    const id = '2024-01-01T000000Z';
    await mkdir(join(to, id, 'files'), { recursive: true });
    await writeFile(join(to, id, 'files/x.rclonelink'), 'real\n');
    const manifest = handMadeManifest('files', id, { files: [fileEntry('files/x.rclonelink', 'real\n')] });
    await writeFile(join(to, id, 'manifest.json'), JSON.stringify(manifest));
    const target = join(root, 'older-restored');
    const restore = await runStep(filesRestore.expand({ allow_unsigned: true, from: to, to: target }, context), root);
    expectOk(restore.run, 'restore');
    expectOk(restore.verify, 'restore verify');
    expect(await readFile(join(target, 'x.rclonelink'), 'utf8')).toBe('real\n');
    expect((await lstat(join(target, 'x.rclonelink'))).isFile()).toBe(true);
  });
});
