import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBareRepositories, listRefs, listRepositories, type RefMap } from '../../tools/stack/git.js';
import { runCommand } from '../../tools/stack/run.js';

describe('createBareRepositories', () => {
  let root: string;
  let repos: Record<string, RefMap>;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'stack-git-'));
    repos = await createBareRepositories({ dir: join(root, 'a'), count: 4, branches: 2, tags: 3, commits: 4 });
  });
  afterAll(() => rm(root, { recursive: true, force: true }));

  it('lays out Gitea-like owner/repo.git folders with branches and tags', async () => {
    expect(Object.keys(repos).sort()).toEqual(['alice/tools', 'alice/website', 'bob/api', 'infra/docs']);
    const refs = repos['alice/website'] ?? {};
    expect(Object.keys(refs).sort()).toEqual([
      'refs/heads/feature/1',
      'refs/heads/feature/2',
      'refs/heads/main',
      'refs/tags/v1.0.0',
      'refs/tags/v1.1.0',
      'refs/tags/v1.2.0',
    ]);
    const path = join(root, 'a', 'alice', 'website.git');
    expect((await runCommand('git', ['-C', path, 'rev-parse', '--is-bare-repository'])).stdout.trim()).toBe('true');
    expect((await runCommand('git', ['-C', path, 'rev-list', '--count', 'main'])).stdout.trim()).toBe('4');
    expect((await runCommand('git', ['-C', path, 'cat-file', '-t', 'v1.0.0'])).stdout.trim()).toBe('tag');
    expect((await runCommand('git', ['-C', path, 'cat-file', '-t', 'v1.1.0'])).stdout.trim()).toBe('commit');
    await runCommand('git', ['-C', path, 'fsck', '--strict']);
    expect(await listRefs(path)).toEqual(refs);
  });

  it('gives the same object ids on every run, and listRepositories finds them all', async () => {
    const again = await createBareRepositories({ dir: join(root, 'b'), count: 4, branches: 2, tags: 3, commits: 4 });
    expect(again).toEqual(repos);
    expect(await listRepositories(join(root, 'b'))).toEqual(repos);
    const different = await createBareRepositories({ dir: join(root, 'c'), count: 1, branches: 0, tags: 0, commits: 3 });
    expect(different['alice/website']?.['refs/heads/main']).not.toBe(repos['alice/website']?.['refs/heads/main']);
  });
});
