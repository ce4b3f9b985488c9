// git.checkout against real bare repositories (from the stack's git seeder) in a temp folder.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gitCheckout } from '../../src/actions/git.checkout/index.js';
import { scriptFor } from '../../src/actions/library.js';
import type { GitCheckoutInput } from '../../src/runbook/schema.generated.js';
import { createBareRepositories } from '../../tools/stack/git.js';
import { runCommand } from '../../tools/stack/run.js';

const context = { runbook: 'recover-full', stepId: 'config', secrets: [] };
const gitEnv = {
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_AUTHOR_NAME: 'Test',
  GIT_AUTHOR_EMAIL: 'test@example.test',
  GIT_COMMITTER_NAME: 'Test',
  GIT_COMMITTER_EMAIL: 'test@example.test',
};

/** Runs shell text the way `runbook exec` does: its library definitions, then the text. */
const runShell = (text: string) => runCommand('bash', ['-euo', 'pipefail', '-c', scriptFor(text)], { env: gitEnv, timeoutMs: 30_000 });
const git = async (...args: string[]) => (await runCommand('git', args, { env: gitEnv })).stdout.trim();

let root: string;
let repository: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'runbook-git-checkout-'));
  await createBareRepositories({ dir: join(root, 'remote'), count: 1, branches: 1, tags: 2, commits: 3 });
  repository = join(root, 'remote', 'alice', 'website.git');
});
afterAll(async () => rm(root, { recursive: true, force: true }));

const expand = (input: Partial<GitCheckoutInput> & { to: string }) => gitCheckout.expand({ repository, ...input }, context);
const commitOf = (ref: string) => git('-C', repository, 'rev-parse', `${ref}^{commit}`);

describe('git.checkout', () => {
  it('expands to its inputs and a call of its library functions', () => {
    const { run, verify } = expand({ to: '/opt/config', ref: 'v1.0.0' });
    const inputs = [`REPOSITORY=${repository}`, 'REF=v1.0.0', 'TO=/opt/config'];
    expect(run.split('\n')).toEqual([...inputs, 'rb_git_checkout_run']);
    expect(verify.run.split('\n')).toEqual([...inputs, 'rb_git_checkout_verify']);
    expect(expand({ to: '/opt/config' }).run).toContain('REF=main\n');
  });

  it("clones main, and HEAD is main's commit", async () => {
    const to = join(root, 'main');
    const { run, verify } = expand({ to });
    await runShell(run);
    expect(await git('-C', to, 'rev-parse', 'HEAD')).toBe(await commitOf('main'));
    expect((await runShell(verify.run)).stdout).toContain(`${to} is at main (${await commitOf('main')}), clean`);
  });

  it('checks out an annotated tag, a branch and a commit id', async () => {
    for (const ref of ['v1.0.0', 'feature/1', await commitOf('main~1')]) {
      const to = join(root, `ref-${ref.replace(/\W/g, '-')}`);
      const { run, verify } = expand({ to, ref });
      await runShell(run);
      expect(await git('-C', to, 'rev-parse', 'HEAD')).toBe(await commitOf(ref));
      await runShell(verify.run);
    }
  });

  it("fetches into an existing clone and moves to the remote's new commit, not the stale local branch", async () => {
    const to = join(root, 'existing');
    const { run, verify } = expand({ to });
    await runShell(run);
    const before = await commitOf('main');

    // Someone pushes a new commit to main.
    const work = join(root, 'work');
    await git('clone', '--quiet', repository, work);
    await writeFile(join(work, 'compose.yaml'), 'services: {}\n');
    await git('-C', work, 'add', 'compose.yaml');
    await git('-C', work, 'commit', '--quiet', '-m', 'add compose file');
    await git('-C', work, 'push', '--quiet', 'origin', 'main');
    const after = await commitOf('main');
    expect(after).not.toBe(before);

    // The clone is behind now, and the verification asks the repository, not the stale clone.
    await expect(runShell(verify.run)).rejects.toThrow(new RegExp(`is at ${before}, but main is ${after}`));
    await runShell(run);
    expect(await git('-C', to, 'rev-parse', 'HEAD')).toBe(after);
    await runShell(verify.run);
  });

  it('fails its verification when HEAD is elsewhere or the tree has local changes', async () => {
    const to = join(root, 'drift');
    const { run, verify } = expand({ to });
    await runShell(run);
    await git('-C', to, 'checkout', '--quiet', '--detach', 'HEAD~1');
    await expect(runShell(verify.run)).rejects.toThrow(/is at [0-9a-f]{40}, but main is [0-9a-f]{40} in /);

    await runShell(run);
    await writeFile(join(to, 'README.md'), 'edited by hand\n');
    await expect(runShell(verify.run)).rejects.toThrow(/has local changes:\s+M README\.md/);
  });

  it('fails on a ref that does not exist', async () => {
    const { run } = expand({ to: join(root, 'missing'), ref: 'no-such-branch' });
    await expect(runShell(run)).rejects.toThrow(/Needed a single revision|unknown revision/);
  });
});
