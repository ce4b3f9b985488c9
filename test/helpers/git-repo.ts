// Temporary git repositories for tests: init, write files, commit with a fixed author.
import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { execFileSync } from 'node:child_process';

export interface GitRepo {
  dir: string;
  /** Writes files (paths relative to the repo), creating folders. */
  write: (files: Record<string, string>) => void;
  /** Stages everything and commits; returns the commit id. */
  commit: (message?: string) => string;
  git: (...args: string[]) => string;
  remove: () => void;
}

const author = {
  GIT_AUTHOR_NAME: 'Runbook Test',
  GIT_AUTHOR_EMAIL: 'test@example.com',
  GIT_COMMITTER_NAME: 'Runbook Test',
  GIT_COMMITTER_EMAIL: 'test@example.com',
  GIT_AUTHOR_DATE: '2026-01-01T00:00:00Z',
  GIT_COMMITTER_DATE: '2026-01-01T00:00:00Z',
};

/** A fresh repository in a temp folder, optionally with files committed. */
export const createGitRepo = (files: Record<string, string> = {}, prefix = 'runbook-git-'): GitRepo => {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const git = (...args: string[]) => execFileSync('git', args, { cwd: dir, env: { ...process.env, ...author }, encoding: 'utf8' });
  git('init', '-q', '-b', 'main');
  const repo: GitRepo = {
    dir,
    git,
    write: (more) => {
      for (const [path, content] of Object.entries(more)) {
        mkdirSync(dirname(join(dir, path)), { recursive: true });
        writeFileSync(join(dir, path), content);
      }
    },
    commit: (message = 'test') => {
      git('add', '-A');
      git('commit', '-q', '--allow-empty', '-m', message);
      return git('rev-parse', 'HEAD').trim();
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
  if (Object.keys(files).length > 0) {
    repo.write(files);
    repo.commit('initial');
  }
  return repo;
};
