import { appendFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { filesBackup } from '../../src/actions/files.backup/index.js';
import { filesRestore } from '../../src/actions/files.restore/index.js';
import { DAM_DERIVATIVES, hashTree, seedDam, seedFiles } from '../../tools/stack/files.js';
import { startS3, type S3Server } from '../../tools/stack/s3.js';
import { expectOk, requireBinaries, runShell, runStep } from '../backup/shell.js';

const context = { runbook: 'files-test', stepId: 'files', secrets: [] };

describe('files.backup and files.restore', () => {
  let root: string;
  beforeAll(async () => {
    requireBinaries('rclone', 'jq', 'sha256sum', 'cmp', 'git');
    root = await mkdtemp(join(tmpdir(), 'files-actions-'));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('round-trips a DAM tree through a local destination: originals equal, derivatives left out', async () => {
    const source = join(root, 'dam');
    const dam = await seedDam({ dir: source, files: 12, bytes: 200_000 });
    const to = join(root, 'dest-dam');
    const backup = await runStep(filesBackup.expand({ source, to, exclude: ['derivatives/**'] }, context), root);
    expectOk(backup.run, 'backup');
    expectOk(backup.verify, 'backup verify');

    const id = backup.outputs.backup!;
    expect(id).toMatch(/^\d{4}-\d\d-\d\dT\d{6}Z$/);
    const manifest = JSON.parse(await readFile(join(to, id, 'manifest.json'), 'utf8'));
    expect(manifest).toMatchObject({
      format: 'runbook-backup/1',
      kind: 'files',
      id,
      source: { path: source },
      runbook: { name: 'test', commit: 'abc123', run_id: 'run-1' },
    });
    expect(manifest.created).toBe(`${id.slice(0, 13)}:${id.slice(13, 15)}:${id.slice(15, 17)}Z`);
    expect(Object.fromEntries(manifest.files.map((f: { name: string; sha256: string }) => [f.name, f.sha256]))).toEqual(
      Object.fromEntries(Object.entries(dam.originals).map(([path, sha]) => [`files/${path}`, sha])),
    );
    expect(await hashTree(join(to, id, 'files'), { exclude: /^originals\// })).toEqual({});

    const target = join(root, 'restored-dam');
    const restore = await runStep(filesRestore.expand({ allow_unsigned: true, from: to, to: target, backup: 'latest' }, context), root);
    expectOk(restore.run, 'restore');
    expectOk(restore.verify, 'restore verify');
    expect(restore.outputs.backup).toBe(id);
    expect(await hashTree(target)).toEqual(dam.originals);
    expect(Object.keys(await hashTree(target)).some((path) => DAM_DERIVATIVES.test(path))).toBe(false);
  });

  it('restore verification fails when a restored file differs from the manifest', async () => {
    const source = join(root, 'small');
    await seedFiles({ dir: source, files: 4, bytes: 4_000 });
    const to = join(root, 'dest-small');
    expectOk((await runStep(filesBackup.expand({ source, to }, context), root)).verify, 'backup verify');
    const target = join(root, 'restored-small');
    const expansion = filesRestore.expand({ allow_unsigned: true, from: to, to: target }, context);
    expectOk((await runStep(expansion, root)).run, 'restore');
    const [victim] = Object.keys(await hashTree(target)).filter(
      (path) => path.endsWith('.txt') || path.endsWith('.bin') || path.endsWith('.pdf'),
    );
    await appendFile(join(target, victim!), 'tampered');
    const verify = await runShell(expansion.verify.run);
    expect(verify.code).not.toBe(0);
  });

  it('restores a named backup, and never one without a manifest', async () => {
    const to = join(root, 'dest-named');
    const source = join(root, 'named-src');
    await seedFiles({ dir: source, files: 3, bytes: 3_000, seed: 'one' });
    const first = await runStep(filesBackup.expand({ source, to }, context), root);
    expectOk(first.verify, 'first backup');
    // A newer folder without manifest.json: an interrupted backup, which `latest` must skip.
    await runShell(`mkdir -p "${to}/2999-01-01T000000Z/files" && echo partial > "${to}/2999-01-01T000000Z/files/x"`);
    const latest = await runStep(filesRestore.expand({ allow_unsigned: true, from: to, to: join(root, 'named-latest') }, context), root);
    expectOk(latest.verify, 'restore latest');
    expect(latest.outputs.backup).toBe(first.outputs.backup);
    const incomplete = await runStep(
      filesRestore.expand({ allow_unsigned: true, from: to, to: join(root, 'named-incomplete'), backup: '2999-01-01T000000Z' }, context),
      root,
    );
    expect(incomplete.run.code).not.toBe(0);
    expect(await hashTree(join(root, 'named-incomplete'))).toEqual({});
  });

  it('backup verification fails when a stored file is changed behind its back', async () => {
    const source = join(root, 'tamper-src');
    await seedFiles({ dir: source, files: 3, bytes: 3_000, seed: 'tamper' });
    const to = join(root, 'dest-tamper');
    const expansion = filesBackup.expand({ source, to }, context);
    const result = await runStep(expansion, root);
    expectOk(result.verify, 'backup verify');
    const stored = join(to, result.outputs.backup!, 'files');
    const [victim] = Object.keys(await hashTree(stored)).filter((path) => !path.endsWith('/'));
    await writeFile(join(stored, victim!), 'something else');
    expect((await runShell(expansion.verify.run, { RUNBOOK_OUTPUT: '/dev/null' })).code).not.toBe(0);
  });

  it('expands to quoted inputs and a call; exclude patterns of any characters reach rclone as they are', async () => {
    const source = join(root, 'quoted src');
    await mkdir(join(source, 'keep'), { recursive: true });
    await writeFile(join(source, 'keep', 'a.txt'), 'a');
    await writeFile(join(source, "it's junk.tmp"), 'junk');
    await writeFile(join(source, '$(touch pwned).log'), 'log');
    const to = join(root, 'dest-quoted');
    const expansion = filesBackup.expand({ source, to, exclude: ["it's *.tmp", '$(touch pwned).log'] }, context);
    expect(expansion.run).toBe(
      `SOURCE='${source}'\nTO=${to}\nALLOW_EMPTY=false\nSIGN_WITH=''\nRB_RUNBOOK=files-test\nRB_STEP=files\nEXCLUDE=('it'\\''s *.tmp' '$(touch pwned).log')\nrb_files_backup_run`,
    );
    expect(expansion.verify.run).toBe(
      `SOURCE='${source}'\nTO=${to}\nALLOW_EMPTY=false\nSIGN_WITH=''\nEXCLUDE=('it'\\''s *.tmp' '$(touch pwned).log')\nrb_files_backup_verify`,
    );
    expect(filesRestore.expand({ allow_unsigned: true, from: to, to: source }, context).run).toBe(
      `FROM=${to}\nTO='${source}'\nBACKUP=latest\nSIGNERS=''\nALLOW_UNSIGNED=true\nrb_files_restore_run`,
    );
    // Run by hand (no RUNBOOK_* from exec): the manifest names the runbook and step of the expansion.
    const run = await runShell(expansion.run, { RUNBOOK_OUTPUT: join(root, 'quoted-output') });
    expectOk(run, 'backup');
    expectOk(await runShell(expansion.verify.run, { RUNBOOK_OUTPUT: join(root, 'quoted-output') }), 'backup verify');
    const [id] = (await readFile(join(root, 'quoted-output'), 'utf8')).match(/\d{4}-\d\d-\d\dT\d{6}Z/)!;
    const manifest = JSON.parse(await readFile(join(to, id, 'manifest.json'), 'utf8'));
    expect(manifest.files.map((f: { name: string }) => f.name)).toEqual(['files/keep/a.txt']);
    expect(manifest.runbook).toEqual({ name: 'files-test', commit: '', run_id: '', step: 'files' });
  });

  describe('through S3', () => {
    let s3: S3Server;
    beforeAll(async () => {
      s3 = await startS3({ root });
    });
    afterAll(async () => {
      await s3?.stop();
    });

    it('round-trips storage buckets through the S3 endpoint with hashes compared', async () => {
      const source = join(root, 'storage');
      const seeded = await seedFiles({ dir: source, files: 10, bytes: 100_000, seed: 's3' });
      const to = s3.remotePath('files/storage');
      const env = s3.rcloneEnv();
      const backup = await runStep(filesBackup.expand({ source, to }, context), root, env);
      expectOk(backup.run, 'backup');
      expectOk(backup.verify, 'backup verify');
      const target = join(root, 'storage-restored');
      const restore = await runStep(filesRestore.expand({ allow_unsigned: true, from: to, to: target }, context), root, env);
      expectOk(restore.run, 'restore');
      expectOk(restore.verify, 'restore verify');
      expect(await hashTree(target)).toEqual(seeded);
    });
  });
});
