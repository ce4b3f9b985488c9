// `--resume --from ID`: the interrupted run goes on (same run id, journal appended), the steps before
// ID are skipped as --from skips them, and ID and every later step run again even when done.
import { mkdirSync, readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { readJournal, type JournalRecord } from '../../src/engine/journal.js';
import { cliEnv, expectBuilt, runCli } from '../helpers/cli.js';
import { createGitRepo, type GitRepo } from '../helpers/git-repo.js';

beforeAll(() => expectBuilt('cli/exec.js'));

let repo: GitRepo;
afterEach(() => repo?.remove());

/** Step i appends a line to $WORK/ci; s3 passes only once $WORK/go exists; s1 publishes an output s2 records. */
const threeSteps = `runbook: 1
name: three
steps:
  - id: s1
    run: |
      echo x >> "$WORK/c1"
      echo token=from-s1 >> "$RUNBOOK_OUTPUT"
    verify: test -s "$WORK/c1"
  - id: s2
    env:
      TOKEN: \${{ steps.s1.outputs.token }}
    run: echo "$TOKEN" >> "$WORK/c2"
    verify: grep -qx from-s1 "$WORK/c2"
  - id: s3
    run: echo x >> "$WORK/c3"
    verify: test -e "$WORK/go"
`;

const setup = (runbook = threeSteps) => {
  repo = createGitRepo({ 'rb.yaml': runbook });
  mkdirSync(join(repo.dir, 'work'));
};

const exec = (...args: string[]) =>
  runCli(['exec', 'rb.yaml', '--state-dir', join(repo.dir, '.state'), '--output', 'plain', ...args], {
    cwd: repo.dir,
    env: cliEnv({ WORK: join(repo.dir, 'work') }),
  });

const lines = (name: string): string[] =>
  existsSync(join(repo.dir, 'work', name))
    ? readFileSync(join(repo.dir, 'work', name), 'utf8')
        .split('\n')
        .filter(Boolean)
    : [];
const counts = () => ['c1', 'c2', 'c3'].map((name) => lines(name).length);
const runIds = () => readdirSync(join(repo.dir, '.state', 'runs'));
const journal = (): JournalRecord[] => readJournal(join(repo.dir, '.state', 'runs', runIds()[0]!, 'journal.jsonl')).records;
const go = () => mkdirSync(join(repo.dir, 'work', 'go'));

describe('exec --resume --from ID', () => {
  it('runs ID and the steps after it again, in the same run, with the earlier outputs', async () => {
    setup();
    expect((await exec()).code).toBe(1);
    expect(counts()).toEqual([1, 1, 1]);
    const [runId] = runIds();
    go();
    const resumed = await exec('--resume', '--from', 's2');
    expect(resumed.code).toBe(0);
    // s1 is not run again; s2, which the journal counts done, is; so is s3.
    expect(counts()).toEqual([1, 2, 2]);
    // s2 read s1's output as the journal kept it.
    expect(lines('c2')).toEqual(['from-s1', 'from-s1']);
    expect(runIds()).toEqual([runId]);
    const records = journal();
    expect(records.filter((r) => r.type === 'run-start').map((r) => [r.runId, r.resumed])).toEqual([
      [runId, false],
      [runId, true],
    ]);
    expect(records.filter((r) => r.type === 'step-skipped')).toEqual([
      expect.objectContaining({ id: 's1', reason: 'done earlier in this run' }),
    ]);
    expect(records.filter((r) => r.type === 'step-done').map((r) => r.id)).toEqual(['s1', 's2', 's2', 's3']);
    expect(records.at(-1)).toMatchObject({ type: 'run-end', outcome: 'success' });
    // The sequence numbers go on where the first session stopped: the journal was appended to.
    expect(records.map((r) => r.seq)).toEqual(records.map((_r, i) => i + 1));
  });

  it('skips the steps before ID that did not pass, as --from does', async () => {
    setup(threeSteps.replace('verify: grep -qx from-s1 "$WORK/c2"', 'verify: test -e "$WORK/go"'));
    expect((await exec()).code).toBe(1);
    expect(counts()).toEqual([1, 1, 0]);
    go();
    const resumed = await exec('--resume', '--from', 's3');
    expect(resumed.code).toBe(0);
    expect(counts()).toEqual([1, 1, 1]);
    expect(journal().filter((r) => r.type === 'step-skipped')).toEqual([
      expect.objectContaining({ id: 's1', reason: 'done earlier in this run' }),
      expect.objectContaining({ id: 's2', reason: 'not selected' }),
    ]);
  });

  it('does not refuse a changed step that --from runs again, but still one before ID', async () => {
    setup();
    expect((await exec()).code).toBe(1);
    repo.write({ 'rb.yaml': threeSteps.replace('run: echo "$TOKEN" >> "$WORK/c2"', 'run: echo "$TOKEN" >> "$WORK/c2"; true') });
    repo.commit('edit s2');
    go();
    const changedLater = await exec('--resume', '--from', 's2');
    expect(changedLater.code).toBe(0);
    expect(counts()).toEqual([1, 2, 2]);

    repo.remove();
    setup();
    expect((await exec()).code).toBe(1);
    repo.write({ 'rb.yaml': threeSteps.replace('echo x >> "$WORK/c1"', 'echo x >> "$WORK/c1"; true') });
    repo.commit('edit s1');
    const changedBefore = await exec('--resume', '--from', 's2');
    expect(changedBefore.code).toBe(2);
    expect(changedBefore.stderr).toMatch(/step\(s\) 's1' changed since they were verified.*--force/);
    expect(counts()).toEqual([1, 1, 1]);
  });

  it('still refuses --resume with --only, and --from naming no step', async () => {
    setup();
    expect((await exec()).code).toBe(1);
    const only = await exec('--resume', '--only', 's3');
    expect(only.code).toBe(2);
    expect(only.stderr).toBe('runbook: --resume cannot be combined with --only\n');
    const unknown = await exec('--resume', '--from', 'nope');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/no step 'nope'/);
    expect(counts()).toEqual([1, 1, 1]);
  });
});
