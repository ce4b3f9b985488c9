// Issue 13, "the recorded commit describes what ran": the dirty check covers every repository file a
// run reads (the environment file too: modified, untracked, staged, ignored); the journal records
// the commit and, with --allow-dirty, the files that differ from it; every step sees RUNBOOK_COMMIT,
// so a backup's manifest names the commit of the runbook that wrote it.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { readJournal } from '../../src/engine/journal.js';
import { cliEnv, expectBuilt, runCli } from '../helpers/cli.js';
import { createGitRepo, type GitRepo } from '../helpers/git-repo.js';

beforeAll(() => expectBuilt('cli/exec.js'));

let repo: GitRepo;
afterEach(() => repo?.remove());

const runbook = `runbook: 1
name: envd
vars:
  target: none
steps:
  - id: show
    run: |
      echo "$target" > "$WORK/target"
      printf '%s' "$RUNBOOK_COMMIT" > "$WORK/commit"
    verify: test -s "$WORK/target"
`;

const setup = (files: Record<string, string> = {}) => {
  repo = createGitRepo({ 'runbooks/rb.yaml': runbook, 'runbooks/environments/staging.yaml': 'target: committed\n', ...files });
  mkdirSync(join(repo.dir, 'work'));
};

const exec = (...args: string[]) =>
  runCli(['exec', 'runbooks/rb.yaml', '--env', 'staging', '--state-dir', join(repo.dir, '.state'), '--output', 'plain', ...args], {
    cwd: repo.dir,
    env: cliEnv({ WORK: join(repo.dir, 'work') }),
  });
const read = (name: string) => readFileSync(join(repo.dir, 'work', name), 'utf8');
const runStart = () => {
  const runs = join(repo.dir, '.state', 'runs');
  const [runId] = readdirSync(runs);
  return readJournal(join(runs, runId!, 'journal.jsonl')).records.find((r) => r.type === 'run-start')!;
};
const head = () => repo.git('rev-parse', 'HEAD').trim();

describe('the dirty check covers the environment file, and the commit is recorded and exported', () => {
  it('refuses a modified environments/NAME.yaml; with --allow-dirty records the commit and the file, and exports <sha>-dirty', async () => {
    setup();
    repo.write({ 'runbooks/environments/staging.yaml': 'target: edited\n' });
    const refused = await exec();
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/runbooks\/environments\/staging\.yaml.*--allow-dirty/);
    const dirty = await exec('--allow-dirty');
    expect(dirty.code).toBe(0);
    expect(read('target')).toBe('edited\n');
    expect(read('commit')).toBe(`${head()}-dirty`);
    expect(runStart()).toMatchObject({ commit: head(), dirty: ['runbooks/environments/staging.yaml'] });
  });

  it('refuses an untracked environments/NAME.yaml', async () => {
    setup();
    repo.write({ 'runbooks/environments/fresh.yaml': 'target: fresh\n' });
    const refused = await runCli(
      ['exec', 'runbooks/rb.yaml', '--env', 'fresh', '--state-dir', join(repo.dir, '.state'), '--output', 'plain'],
      { cwd: repo.dir, env: cliEnv({ WORK: join(repo.dir, 'work') }) },
    );
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/runbooks\/environments\/fresh\.yaml.*--allow-dirty/);
  });

  it('refuses an environments/NAME.yaml staged but not committed', async () => {
    setup();
    repo.write({ 'runbooks/environments/staging.yaml': 'target: staged\n' });
    repo.git('add', 'runbooks/environments/staging.yaml');
    const refused = await exec();
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/runbooks\/environments\/staging\.yaml.*--allow-dirty/);
  });

  it('refuses an environments/NAME.yaml that .gitignore keeps out of every commit', async () => {
    setup({ '.gitignore': 'runbooks/environments/local.yaml\n' });
    repo.write({ 'runbooks/environments/local.yaml': 'target: ignored\n' });
    const refused = await runCli(
      ['exec', 'runbooks/rb.yaml', '--env', 'local', '--state-dir', join(repo.dir, '.state'), '--output', 'plain'],
      { cwd: repo.dir, env: cliEnv({ WORK: join(repo.dir, 'work') }) },
    );
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/runbooks\/environments\/local\.yaml.*--allow-dirty/);
  });

  it('refuses an include reached through a link that is not committed (the commit does not say where it leads)', async () => {
    setup({
      'runbooks/rb.yaml': runbook.replace('steps:', 'include:\n  - alias/tidy.yaml\nsteps:'),
      'runbooks/real/tidy.yaml': 'runbook: 1\nname: tidy\nsteps:\n  - id: noop\n    run: echo hi\n    verify: test -n "$HOME"\n',
    });
    symlinkSync('real', join(repo.dir, 'runbooks', 'alias'));
    const refused = await exec();
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/runbooks\/alias.*--allow-dirty/);
  });

  it('exports RUNBOOK_COMMIT (the commit) to every step of a clean run, and status shows it', async () => {
    setup();
    expect((await exec()).code).toBe(0);
    expect(read('commit')).toBe(head());
    expect(runStart()).toMatchObject({ commit: head() });
    expect(runStart().dirty ?? []).toEqual([]);
    const status = await runCli(['status', '--state-dir', join(repo.dir, '.state'), '--format', 'json'], { cwd: repo.dir });
    expect(JSON.parse(status.stdout).runs[0]).toMatchObject({ commit: head() });
  });

  it("writes the runbook's commit into a files.backup manifest run by exec", async () => {
    setup({
      'runbooks/backup.yaml': `runbook: 1\nname: files-nightly\nkind: backup\nschedule: '0 2 * * *'\nsteps:\n  - id: files\n    uses: files.backup\n    with:\n      source: \${{ env.SOURCE }}\n      to: \${{ env.DEST }}\n`,
    });
    mkdirSync(join(repo.dir, 'work', 'source'));
    writeFileSync(join(repo.dir, 'work', 'source', 'a.txt'), 'hello\n');
    const dest = join(repo.dir, 'work', 'dest');
    const run = await runCli(['exec', 'runbooks/backup.yaml', '--state-dir', join(repo.dir, '.state'), '--output', 'plain'], {
      cwd: repo.dir,
      env: cliEnv({ SOURCE: join(repo.dir, 'work', 'source'), DEST: dest }),
    });
    expect(run.code, run.stderr).toBe(0);
    const [id] = readdirSync(dest);
    const manifest = JSON.parse(readFileSync(join(dest, id!, 'manifest.json'), 'utf8'));
    expect(manifest.runbook).toMatchObject({
      name: 'files-nightly',
      commit: execFileSync('git', ['rev-parse', 'HEAD'], { cwd: repo.dir, encoding: 'utf8' }).trim(),
    });
  });
});
