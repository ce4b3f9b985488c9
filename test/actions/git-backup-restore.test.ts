import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gitBackup } from '../../src/actions/git.backup/index.js';
import { gitRestore } from '../../src/actions/git.restore/index.js';
import { createBareRepositories, listRepositories } from '../../tools/stack/git.js';
import { runCommand } from '../../tools/stack/run.js';
import { startS3, type S3Server } from '../../tools/stack/s3.js';
import { expectOk, requireBinaries, runShell, runStep } from '../backup/shell.js';

const context = { runbook: 'git-test', stepId: 'gitea-repos', secrets: [] };

describe('git.backup and git.restore', () => {
  let root: string;
  let s3: S3Server;
  let repositories: string;
  let expected: Awaited<ReturnType<typeof createBareRepositories>>;
  beforeAll(async () => {
    requireBinaries('git', 'rclone', 'jq', 'sha256sum');
    root = await mkdtemp(join(tmpdir(), 'git-actions-'));
    s3 = await startS3({ root });
    repositories = join(root, 'gitea');
    expected = await createBareRepositories({ dir: repositories, count: 3, branches: 2, tags: 2, commits: 4 });
    // An empty repository (Gitea creates them): nothing to bundle, still restored.
    await runCommand('git', ['init', '--quiet', '--bare', '--initial-branch=main', join(repositories, 'infra/empty.git')]);
    // HEAD on a branch other than the one a clone would guess.
    const [first] = Object.keys(expected);
    await runCommand('git', ['-C', join(repositories, `${first}.git`), 'symbolic-ref', 'HEAD', 'refs/heads/feature/1']);
  });
  afterAll(async () => {
    await s3?.stop();
    await rm(root, { recursive: true, force: true });
  });

  for (const where of ['local', 's3'] as const) {
    it(`round-trips every repository through a ${where} destination: refs equal, HEAD kept, fsck clean`, async () => {
      const to = where === 's3' ? s3.remotePath('git/gitea') : join(root, 'dest-git');
      const env = where === 's3' ? s3.rcloneEnv() : {};
      const backup = await runStep(gitBackup.expand({ repositories, to }, context), root, env);
      expectOk(backup.run, 'backup');
      expectOk(backup.verify, 'backup verify');

      const target = join(root, `restored-${where}`);
      const restore = await runStep(
        gitRestore.expand({ allow_unsigned: true, from: to, to: target, backup: 'latest' }, context),
        root,
        env,
      );
      expectOk(restore.run, 'restore');
      expectOk(restore.verify, 'restore verify');
      expect(restore.outputs.backup).toBe(backup.outputs.backup);

      const restored = await listRepositories(target);
      expect(restored).toEqual({ ...expected, 'infra/empty': {} });
      const [first] = Object.keys(expected);
      expect((await runCommand('git', ['-C', join(target, `${first}.git`), 'symbolic-ref', 'HEAD'])).stdout.trim()).toBe(
        'refs/heads/feature/1',
      );
      const config = await readFile(join(target, `${first}.git`, 'config'), 'utf8');
      expect(config).not.toMatch(/remote|mirror/);

      // Re-running over an identical restore is a no-op; over different refs it refuses.
      expectOk((await runStep(gitRestore.expand({ allow_unsigned: true, from: to, to: target }, context), root, env)).run, 'restore again');
      await runCommand('git', ['-C', join(target, `${first}.git`), 'update-ref', '-d', 'refs/heads/feature/2']);
      const refused = await runStep(gitRestore.expand({ allow_unsigned: true, from: to, to: target }, context), root, env);
      expect(refused.run.code).not.toBe(0);
      expect(refused.run.stderr).toMatch(/already exists with other refs/);
      expect((await runShell(gitRestore.expand({ allow_unsigned: true, from: to, to: target }, context).verify.run, env)).code).not.toBe(0);
    });
  }

  it('manifest records every ref and sha per repository, and a corrupted bundle fails verification', async () => {
    const to = join(root, 'dest-corrupt');
    const expansion = gitBackup.expand({ repositories, to }, context);
    expect(expansion.run).toBe(
      `REPOSITORIES=${repositories}\nTO=${to}\nSIGN_WITH=''\nRB_RUNBOOK=git-test\nRB_STEP=gitea-repos\nrb_git_backup_run`,
    );
    expect(expansion.verify.run).toBe(`REPOSITORIES=${repositories}\nTO=${to}\nSIGN_WITH=''\nrb_git_backup_verify`);
    const backup = await runStep(expansion, root);
    expectOk(backup.verify, 'backup verify');
    const id = backup.outputs.backup!;
    const manifest = JSON.parse(await readFile(join(to, id, 'manifest.json'), 'utf8'));
    const [first] = Object.keys(expected);
    for (const [repo, refs] of Object.entries(expected)) {
      expect(manifest.refs[`${repo}.git`]).toEqual({ ...refs, HEAD: refs[repo === first ? 'refs/heads/feature/1' : 'refs/heads/main'] });
    }
    expect(manifest.refs['infra/empty.git']).toEqual({});
    expect(manifest.heads['infra/empty.git']).toBe('refs/heads/main');
    expect(manifest.kind).toBe('git');
    await runShell(`printf 'x' | dd of="${join(to, id, 'bundles', `${first}.git.bundle`)}" bs=1 seek=200 conv=notrunc status=none`);
    expect((await runShell(expansion.verify.run, { RUNBOOK_OUTPUT: '/dev/null' })).code).not.toBe(0);
  });
});
