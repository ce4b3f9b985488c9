// Every restore proves bytes before it writes anything, and writes only what the manifest lists:
// files.restore against the S3 server with an altered object (the issue: the good file was
// overwritten before the check failed), an extra object, a damaged one among good ones, a symbolic
// link smuggled into the store; and manifest names that would leave the target, refused before
// anything is written.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { filesBackup } from '../../src/actions/files.backup/index.js';
import { filesRestore } from '../../src/actions/files.restore/index.js';
import { formatBackupId } from '../../src/backup/id.js';
import { startS3, type S3Server } from '../../tools/stack/s3.js';
import { expectOk, requireBinaries, runShell, runStep } from '../backup/shell.js';
import { writeFilesBackup } from '../backup/trust-fixture.js';

const context = { runbook: 'bytes', stepId: 'restore', secrets: [] };
const sha256 = (text: string | Buffer) => createHash('sha256').update(text).digest('hex');

/** Every file under `dir` with its content, symbolic links as `-> TARGET`. */
const snapshot = (dir: string): Record<string, string> => {
  const out: Record<string, string> = {};
  const walk = (sub: string) => {
    for (const name of readdirSync(join(dir, sub))) {
      const path = sub ? `${sub}/${name}` : name;
      const stat = lstatSync(join(dir, path));
      if (stat.isSymbolicLink())
        out[path] = `-> ${execFileSync('readlink', [join(dir, path)])
          .toString()
          .trim()}`;
      else if (stat.isDirectory()) walk(path);
      else out[path] = readFileSync(join(dir, path), 'utf8');
    }
  };
  walk('');
  return out;
};

let root: string;
let s3: S3Server;
beforeAll(async () => {
  requireBinaries('rclone', 'jq', 'sha256sum', 'ssh-keygen');
  root = mkdtempSync(join(tmpdir(), 'restore-bytes-'));
  s3 = await startS3({ root });
}, 60_000);
afterAll(async () => {
  await s3?.stop();
  rmSync(root, { recursive: true, force: true });
});

/** A files backup of `files` in the S3 bucket under `prefix`, made by files.backup; returns its id. */
const backUp = async (prefix: string, files: Record<string, string>) => {
  const source = join(root, prefix, 'source');
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(join(source, name, '..'), { recursive: true });
    writeFileSync(join(source, name), content);
  }
  return backUpFolder(source, prefix);
};

/** files.backup's run alone (its verification is files.backup's tests' business): returns the id. */
const backUpFolder = async (source: string, prefix: string) => {
  const output = join(root, `output-${Math.random().toString(36).slice(2)}`);
  writeFileSync(output, '');
  const run = await runShell(filesBackup.expand({ source, to: s3.remotePath(prefix) }, context).run, {
    ...s3.rcloneEnv(),
    RUNBOOK_OUTPUT: output,
  });
  expectOk(run, 'backup');
  return /^backup=(.*)$/m.exec(readFileSync(output, 'utf8'))![1]!;
};

/** Writes `content` as the object `key` of the bucket through rclone (as anyone with the bucket's keys can). */
const putObject = async (key: string, content: string) => {
  const file = join(root, `object-${Math.random().toString(36).slice(2)}`);
  writeFileSync(file, content);
  expectOk(await runShell(`rclone copyto "${file}" "${s3.remotePath(key)}"`, s3.rcloneEnv()), 'put object');
};

/** A target folder holding `files` already (the good data a bad restore must not touch). */
const targetWith = (name: string, files: Record<string, string> = {}) => {
  const target = join(root, name, 'target');
  mkdirSync(target, { recursive: true });
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(target, path, '..'), { recursive: true });
    writeFileSync(join(target, path), content);
  }
  return target;
};

const restore = (from: string, to: string, backup = 'latest', env: Record<string, string> = s3.rcloneEnv()) =>
  runStep(filesRestore.expand({ from, to, backup, allow_unsigned: true }, context), root, env);

describe.concurrent('files.restore proves every byte before it writes', () => {
  it('an altered object (same size): refused, the good file in the target unchanged (the issue)', async () => {
    const id = await backUp('altered', { 'a.txt': 'good a\n', 'b.txt': 'good b\n' });
    writeFileSync(s3.objectFile(`altered/${id}/files/b.txt`), 'evil b\n');
    const target = targetWith('altered', { 'b.txt': 'good b\n', 'keep.txt': 'mine\n' });
    const { run } = await restore(s3.remotePath('altered'), target, id);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(/b\.txt/);
    expect(snapshot(target)).toEqual({ 'b.txt': 'good b\n', 'keep.txt': 'mine\n' });
  });

  it('one damaged file among good ones: none of them is written', async () => {
    const files = Object.fromEntries(Array.from({ length: 6 }, (_, i) => [`dir/f${i}.txt`, `content ${i}\n`]));
    const id = await backUp('one-bad', files);
    writeFileSync(s3.objectFile(`one-bad/${id}/files/dir/f5.txt`), 'CONTENT 5\n');
    const target = targetWith('one-bad');
    const { run } = await restore(s3.remotePath('one-bad'), target, id);
    expect(run.code).not.toBe(0);
    expect(snapshot(target)).toEqual({});
  });

  it('an extra object in the store, not in the manifest, is never written (and the restore passes)', async () => {
    const id = await backUp('extra', { 'a.txt': 'a\n' });
    await putObject(`extra/${id}/files/planted.sh`, 'rm -rf /\n');
    await putObject(`extra/${id}/files/sub/planted.txt`, 'x\n');
    const target = targetWith('extra');
    const { run, verify } = await restore(s3.remotePath('extra'), target);
    expectOk(run, 'restore');
    expectOk(verify, 'verify');
    expect(snapshot(target)).toEqual({ 'a.txt': 'a\n' });
  });

  it('a symbolic link planted in the store where the manifest has a file is never written as a link', async () => {
    const id = await backUp('planted-link', { 'a.txt': 'a\n', 'b.txt': 'b\n' });
    await putObject(`planted-link/${id}/files/a.txt.rclonelink`, '/etc/passwd');
    const target = targetWith('planted-link');
    const { run } = await restore(s3.remotePath('planted-link'), target, id);
    if (run.code === 0) expect(snapshot(target)).toEqual({ 'a.txt': 'a\n', 'b.txt': 'b\n' });
    else expect(snapshot(target)).toEqual({});
    expect(lstatSync(join(target, '..')).isDirectory()).toBe(true);
  });

  it('a stored symbolic link whose target text was altered (same length) never reaches the target: links come from the manifest', async () => {
    const source = join(root, 'link-altered', 'source');
    mkdirSync(source, { recursive: true });
    writeFileSync(join(source, 'real.txt'), 'r\n');
    execFileSync('ln', ['-s', 'real.txt', join(source, 'link')]);
    const id = await backUpFolder(source, 'link-altered');
    writeFileSync(s3.objectFile(`link-altered/${id}/files/link.rclonelink`), '/etc/pas');
    const target = targetWith('link-altered');
    const { run } = await restore(s3.remotePath('link-altered'), target, id);
    if (run.code === 0) expect(snapshot(target)).toEqual({ 'real.txt': 'r\n', link: '-> real.txt' });
    else expect(snapshot(target)).toEqual({});
  });

  it('staging is private and removed: no staged copy is left beside the target', async () => {
    const id = await backUp('staging', { 'a.txt': 'a\n' });
    writeFileSync(s3.objectFile(`staging/${id}/files/a.txt`), 'b\n');
    const target = targetWith('staging');
    const { run } = await restore(s3.remotePath('staging'), target, id);
    expect(run.code).not.toBe(0);
    expect(readdirSync(join(target, '..')).sort()).toEqual(['source', 'target']);
  });
});

describe.concurrent('names from a manifest never leave the target', () => {
  const cases: [string, string][] = [
    ['a parent component', 'files/../escaped.txt'],
    ['an absolute path', '/tmp/escaped-absolute.txt'],
    ['a path that climbs back out', 'files/a/../../../escaped.txt'],
    ['a newline', 'files/a\nb.txt'],
    ['a dot component', 'files/./a.txt'],
  ];
  for (const [what, name] of cases) {
    it(`a manifest name with ${what} is refused before anything is written`, async () => {
      const dir = join(root, `name-${what.replace(/\W+/g, '-')}`);
      const dest = join(dir, 'dest');
      const id = formatBackupId(new Date(Date.now() - 60_000));
      writeFilesBackup(dest, id, {
        files: { 'ok.txt': 'ok\n' },
        extra: { 'escaped.txt': 'x\n', 'files/a/b.txt': 'x\n' },
        edit: (manifest) => {
          manifest.files.push({ name, bytes: 2, sha256: sha256('x\n') });
        },
      });
      const target = join(dir, 'deep', 'target');
      mkdirSync(target, { recursive: true });
      const { run } = await restore(dest, target, id, {});
      expect(run.code).not.toBe(0);
      expect(run.stderr).toMatch(/unsafe|not trusted/);
      expect(snapshot(join(dir, 'deep'))).toEqual({});
      expect(existsSync('/tmp/escaped-absolute.txt')).toBe(false);
    });
  }
});
