// Faults class "a signal other than SIGINT/SIGTERM, or a lost terminal": SIGHUP (a lost SSH
// session) and SIGQUIT are handled like SIGTERM (journal `interrupted`, the step's group ended,
// cleanup run, lock released, exit 128+N); SIGPIPE is ignored; writes to a terminal that is gone
// (EPIPE) never crash the engine; a second signal during cleanup stops cleanup, never the record.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { readJournal } from '../../src/engine/journal.js';
import { createGitRepo, type GitRepo } from '../helpers/git-repo.js';
import { cli, cliEnv, exited, expectBuilt, startCli } from '../helpers/cli.js';
import { descendants, pidAlive, waitUntil } from './helpers/processes.js';

const runbook = (cleanup = '      touch "$WORK/tidy"\n') => `runbook: 1
name: hangup
steps:
  - id: long
    run: |
      (trap '' TERM HUP; sleep 60) &
      echo $! >> "$WORK/pids"
      echo $$ >> "$WORK/pids"
      touch "$WORK/started"
      wait
    verify: test -e "$WORK/started"
    timeout: 30s
  - id: next
    run: touch "$WORK/next"
    verify: test -e "$WORK/next"
cleanup:
  - id: tidy
    run: |
${cleanup}    verify: test -e "$WORK/tidy"
`;

let repo: GitRepo;
beforeAll(() => expectBuilt(), 120_000);
afterEach(() => repo?.remove());

const work = () => join(repo.dir, 'work');
const stateDir = () => join(repo.dir, '.state');
const start = (text: string) => {
  repo = createGitRepo({ 'rb.yaml': text });
  mkdirSync(work());
  return startCli(['exec', 'rb.yaml', '--state-dir', stateDir(), '--output', 'plain'], {
    cwd: repo.dir,
    env: cliEnv({ WORK: work(), RUNBOOK_KILL_GRACE_MS: '300' }),
  });
};
const stepPids = () => readFileSync(join(work(), 'pids'), 'utf8').split('\n').filter(Boolean).map(Number);
const records = () => {
  const runs = join(stateDir(), 'runs');
  return readJournal(join(runs, readdirSync(runs)[0]!, 'journal.jsonl')).records;
};
const noLock = () => expect(readdirSync(join(stateDir(), 'locks'))).toEqual([]);
const midStep = async (child: ReturnType<typeof start>) => {
  await waitUntil(() => existsSync(join(work(), 'started')) && stepPids().length === 2, 'the step to be running');
  return [...new Set([...stepPids(), ...descendants(child.pid!).map((p) => p.pid)])];
};

describe('signals other than SIGINT and SIGTERM', () => {
  for (const [signal, code] of [
    ['SIGHUP', 129],
    ['SIGQUIT', 131],
  ] as const) {
    it(`${signal} mid-step: journal interrupted, the step's group ended, cleanup run, lock released, exit ${code}`, async () => {
      const child = start(runbook());
      const pids = await midStep(child);
      child.kill(signal);
      const end = await exited(child);
      expect(end, child.output().stderr).toEqual({ code, signal: null });
      expect(pids.filter(pidAlive)).toEqual([]);
      expect(records().find((r) => r.type === 'interrupted')).toMatchObject({ signal, steps: ['long'] });
      expect(records().at(-1)).toMatchObject({ type: 'run-end', outcome: 'interrupted' });
      expect(existsSync(join(work(), 'tidy'))).toBe(true);
      expect(existsSync(join(work(), 'next'))).toBe(false);
      noLock();
      expect(child.output().stderr).not.toMatch(/internal error|\n\s+at /);
    }, 30_000);
  }

  it('SIGHUP after the terminal is gone (stdout and stderr closed: EPIPE): the same, no crash', async () => {
    const child = start(runbook());
    const pids = await midStep(child);
    child.stdout!.destroy();
    child.stderr!.destroy();
    child.kill('SIGHUP');
    expect(await exited(child)).toEqual({ code: 129, signal: null });
    expect(pids.filter(pidAlive)).toEqual([]);
    expect(records().at(-1)).toMatchObject({ type: 'run-end', outcome: 'interrupted' });
    expect(existsSync(join(work(), 'tidy'))).toBe(true);
    noLock();
  }, 30_000);

  it('SIGPIPE to the engine is ignored: the run goes on to its end', async () => {
    const child = start(runbook().replace("(trap '' TERM HUP; sleep 60) &", '(sleep 1) &'));
    await midStep(child);
    child.kill('SIGPIPE');
    expect(await exited(child), child.output().stderr).toEqual({ code: 0, signal: null });
    expect(existsSync(join(work(), 'next'))).toBe(true);
    expect(records().at(-1)).toMatchObject({ type: 'run-end', outcome: 'success' });
  }, 30_000);

  it('SIGINT, then SIGHUP during cleanup: cleanup stopped, its group ended, run-end recorded, exit 130', async () => {
    const child = start(runbook('      echo $$ > "$WORK/cleanup-pid"\n      sleep 30\n      touch "$WORK/tidy"\n'));
    await midStep(child);
    child.kill('SIGINT');
    await waitUntil(() => existsSync(join(work(), 'cleanup-pid')), 'cleanup to be running');
    child.kill('SIGHUP');
    expect(await exited(child), child.output().stderr).toEqual({ code: 130, signal: null });
    expect(pidAlive(Number(readFileSync(join(work(), 'cleanup-pid'), 'utf8')))).toBe(false);
    expect(records().at(-1)).toMatchObject({ type: 'run-end', outcome: 'interrupted' });
    noLock();
    expect(child.output().stderr).toMatch(/cleanup stopped by a second signal \(SIGHUP\)/);
  }, 30_000);

  // On a real terminal: python3's pty module stands in for sshd; closing its side hangs the terminal up.
  const hangUp = (text: string, waitFor: { file?: string; output?: string }, ...flags: string[]) => {
    repo = createGitRepo({ 'rb.yaml': text });
    mkdirSync(work());
    const wait: Record<string, string> = waitFor.file ? { WAIT_FILE: join(work(), waitFor.file) } : { WAIT_FOR: waitFor.output! };
    const run = spawnSync(
      'python3',
      [
        fileURLToPath(new URL('./helpers/hang-up.py', import.meta.url)),
        process.execPath,
        cli,
        'exec',
        'rb.yaml',
        '--state-dir',
        stateDir(),
        '--output',
        'plain',
        ...flags,
      ],
      { cwd: repo.dir, env: cliEnv({ WORK: work(), RUNBOOK_KILL_GRACE_MS: '300', ...wait }), encoding: 'utf8', timeout: 60_000 },
    );
    expect(run.status, `python3 (its pty module) is needed: ${run.error?.message ?? run.stderr}`).toBe(0);
    return JSON.parse(run.stdout) as { code: number; seen: string };
  };

  it("a terminal hung up mid-step (its pty closed): exit 129, not an abort in Node's terminal reset; cleanup run, lock released", async () => {
    const end = hangUp(runbook(), { file: 'started' }, '--yes');
    expect(end.code, end.seen).toBe(129);
    expect(stepPids().filter(pidAlive)).toEqual([]);
    expect(records().find((r) => r.type === 'interrupted')).toMatchObject({ signal: 'SIGHUP', steps: ['long'] });
    expect(records().at(-1)).toMatchObject({ type: 'run-end', outcome: 'interrupted' });
    expect(existsSync(join(work(), 'tidy'))).toBe(true);
    expect(existsSync(join(work(), 'next'))).toBe(false);
    noLock();
  }, 60_000);

  it('a terminal hung up at a confirm prompt: the prompt ends, exit 129, cleanup run, lock released', async () => {
    const prompt = `runbook: 1
name: hangup
steps:
  - id: ask
    confirm: Really?
    run: touch "$WORK/asked"
    verify: test -e "$WORK/asked"
cleanup:
  - id: tidy
    run: touch "$WORK/tidy"
    verify: test -e "$WORK/tidy"
`;
    const end = hangUp(prompt, { output: '[y/N]' });
    expect(end.code, end.seen).toBe(129);
    expect(records().find((r) => r.type === 'interrupted')).toMatchObject({ signal: 'SIGHUP' });
    expect(records().at(-1)).toMatchObject({ type: 'run-end', outcome: 'interrupted' });
    expect(existsSync(join(work(), 'asked'))).toBe(false);
    expect(existsSync(join(work(), 'tidy'))).toBe(true);
    noLock();
  }, 60_000);
});
