// Issue 13, "escapes": every file a run reads from the runbook repository (the runbook, each
// include, the environment file) must really be inside it: a committed symbolic link that leads out
// is refused like a `../` include, by `exec` (exit 2, file:line:col, nothing run) and by `lint`.
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { cliEnv, expectBuilt, runCli } from '../helpers/cli.js';
import { createGitRepo, type GitRepo } from '../helpers/git-repo.js';

beforeAll(() => expectBuilt('cli/exec.js'));

let repo: GitRepo;
let outside: string;
beforeEach(() => {
  outside = mkdtempSync(join(tmpdir(), 'runbook-outside-'));
});
afterEach(() => {
  repo?.remove();
  rmSync(outside, { recursive: true, force: true });
});

const marker = () => join(outside, 'ran');
const included = () => `runbook: 1\nname: lib\nsteps:\n  - id: touch\n    run: touch "${marker()}"\n    verify: test -e "${marker()}"\n`;
const including = (path: string) =>
  `runbook: 1\nname: main\ninclude:\n  - ${path}\nsteps:\n  - id: own\n    run: echo own\n    verify: test -n "$HOME"\n`;
const usingVar = `runbook: 1\nname: main\nvars:\n  target: none\nsteps:\n  - id: own\n    run: echo "$target" > "$MARK"\n    verify: test -s "$MARK"\n`;

/** A repository whose files are written, then `links` (path in the repo → target) made, then all committed. */
const setup = (files: Record<string, string>, links: Record<string, string>, outsideFiles: Record<string, string> = {}) => {
  for (const [path, text] of Object.entries(outsideFiles)) {
    mkdirSync(join(outside, path, '..'), { recursive: true });
    writeFileSync(join(outside, path), text);
  }
  repo = createGitRepo();
  repo.write(files);
  for (const [path, target] of Object.entries(links)) {
    mkdirSync(join(repo.dir, path, '..'), { recursive: true });
    symlinkSync(target.replace('OUTSIDE', outside), join(repo.dir, path));
  }
  repo.commit('with links');
};

const exec = (file: string, ...args: string[]) =>
  runCli(['exec', file, '--yes', '--state-dir', join(repo.dir, '.state'), '--output', 'plain', ...args], {
    cwd: repo.dir,
    env: cliEnv({ MARK: marker() }),
  });
const lint = (...paths: string[]) => runCli(['lint', ...paths], { cwd: repo.dir });

describe('files read through symbolic links must stay inside the repository', () => {
  it('refuses an include through a committed link to a folder outside the repository (exec and lint)', async () => {
    setup({ 'rb.yaml': including('shared/lib.yaml') }, { shared: 'OUTSIDE/shared' }, { 'shared/lib.yaml': included() });
    const run = await exec('rb.yaml');
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/rb\.yaml:4:5: include 'shared\/lib\.yaml' .*outside the repository.*\[include-outside-repository\]/);
    expect(existsSync(marker())).toBe(false);
    const linted = await lint('rb.yaml');
    expect(linted.code).toBe(2);
    expect(linted.stdout + linted.stderr).toMatch(/rb\.yaml:4:5: .*outside the repository/);
  });

  it('refuses an include that is itself a link to a file outside', async () => {
    setup({ 'rb.yaml': including('lib.yaml') }, { 'lib.yaml': 'OUTSIDE/lib.yaml' }, { 'lib.yaml': included() });
    const run = await exec('rb.yaml');
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/rb\.yaml:4:5: .*outside the repository/);
    expect(existsSync(marker())).toBe(false);
  });

  it('refuses a chain of links (inside, then out)', async () => {
    setup(
      { 'rb.yaml': including('lib/a.yaml') },
      { 'lib/a.yaml': 'b.yaml', 'lib/b.yaml': '../hop/c.yaml', 'hop/c.yaml': 'OUTSIDE/lib.yaml' },
      { 'lib.yaml': included() },
    );
    const run = await exec('rb.yaml');
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/rb\.yaml:4:5: .*outside the repository/);
    expect(existsSync(marker())).toBe(false);
  });

  it('refuses a runbook that is itself a link to a file outside', async () => {
    setup({}, { 'rb.yaml': 'OUTSIDE/rb.yaml' }, { 'rb.yaml': included() });
    const run = await exec('rb.yaml');
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/rb\.yaml:1:1: .*outside the repository/);
    expect(existsSync(marker())).toBe(false);
  });

  it.each([
    ['environments/ is a link to a folder outside', { environments: 'OUTSIDE/envs' }, { 'envs/staging.yaml': 'target: evil\n' }],
    [
      'environments/NAME.yaml is a link to a file outside',
      { 'environments/staging.yaml': 'OUTSIDE/staging.yaml' },
      { 'staging.yaml': 'target: evil\n' },
    ],
  ])('refuses --env NAME when %s (exec and lint)', async (_, links: Record<string, string>, outside: Record<string, string>) => {
    setup({ 'rb.yaml': usingVar }, links, outside);
    const run = await exec('rb.yaml', '--env', 'staging');
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/environments\/staging\.yaml:1:1: .*outside the repository/);
    expect(existsSync(marker())).toBe(false);
    const linted = await lint('.');
    expect(linted.code).toBe(2);
    expect(linted.stdout + linted.stderr).toMatch(/staging\.yaml:1:1: .*outside the repository/);
  });

  it('runs an include reached through a link that points back inside the repository', async () => {
    setup(
      { 'rb.yaml': including('alias/lib.yaml'), 'real/lib.yaml': included() },
      { alias: 'real', 'environments/staging.yaml': '../real/staging.yaml' },
    );
    repo.write({ 'real/staging.yaml': 'target: fine\n' });
    repo.commit('env');
    const run = await exec('rb.yaml', '--env', 'staging');
    expect(run.code, run.stderr).toBe(0);
    expect(existsSync(marker())).toBe(true);
    expect((await lint('.')).code).toBe(0);
  });

  it('runs a repository reached as a whole through a link (its real location is the boundary)', async () => {
    setup({ 'rb.yaml': including('lib.yaml'), 'lib.yaml': included(), 'environments/staging.yaml': 'target: fine\n' }, {});
    symlinkSync(repo.dir, join(outside, 'checkout'));
    const run = await runCli(
      ['exec', join(outside, 'checkout', 'rb.yaml'), '--env', 'staging', '--state-dir', join(repo.dir, '.state'), '--output', 'plain'],
      { cwd: join(outside, 'checkout'), env: cliEnv({ MARK: marker() }) },
    );
    expect(run.code, run.stderr).toBe(0);
    expect(existsSync(marker())).toBe(true);
  });
});
