// Guarantees 4 and 5 — nothing escapes a timeout or an interrupt, and one run at a time. A step
// forks grandchildren that ignore SIGTERM; the engine gets SIGINT or SIGTERM mid-step, or the step
// times out: every PID is gone (checked by PID), the journal says what happened, the exit code is
// 130/143/1, and the next step never starts. Locks: dead-PID takeover, foreign host never broken.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { readJournal } from '../../src/engine/journal.js';
import { createGitRepo, type GitRepo } from '../helpers/git-repo.js';
import { cliEnv, exited, expectBuilt, runCli, startCli } from '../helpers/cli.js';
import { descendants, pidAlive, sleep, waitUntil } from './helpers/processes.js';

const stubborn = (timeout = '') => `runbook: 1
name: stubborn
steps:
  - id: fork
    run: |
      (trap '' TERM; sleep 60) &
      echo $! >> "$WORK/pids"
      (trap '' TERM INT; bash -c 'sleep 61 & echo $! >> "$WORK/pids"; wait') &
      echo $! >> "$WORK/pids"
      echo $$ >> "$WORK/pids"
      touch "$WORK/started"
      wait
    verify: test -e "$WORK/started"
${timeout}  - id: next
    run: touch "$WORK/next"
    verify: test -e "$WORK/next"
`;

let repo: GitRepo;
beforeAll(() => expectBuilt(), 120_000);
afterEach(() => repo?.remove());

const work = () => join(repo.dir, 'work');
const args = (...more: string[]) => ['exec', 'rb.yaml', '--state-dir', join(repo.dir, '.state'), '--output', 'plain', ...more];
const env = () => cliEnv({ WORK: work(), RUNBOOK_KILL_GRACE_MS: '400' });
const setup = (text: string) => {
  repo = createGitRepo({ 'rb.yaml': text });
  mkdirSync(work());
};
const stepPids = () => readFileSync(join(work(), 'pids'), 'utf8').split('\n').filter(Boolean).map(Number);
const journal = () => {
  const runs = join(repo.dir, '.state', 'runs');
  return readJournal(join(runs, readdirSync(runs)[0]!, 'journal.jsonl')).records;
};

describe('nothing escapes a timeout or an interrupt', () => {
  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const) {
    it(`${signal} to the engine mid-step: exit ${code}, every PID gone, next step not started`, async () => {
      setup(stubborn());
      const child = startCli(args(), { cwd: repo.dir, env: env() });
      await waitUntil(() => existsSync(join(work(), 'started')) && stepPids().length === 4, 'the step and its grandchildren');
      // Two sleeps, a subshell running a nested bash, the step's bash: all in the engine's tree now.
      const pids = [...new Set([...stepPids(), ...descendants(child.pid!).map((p) => p.pid)])];
      expect(pids.length).toBeGreaterThanOrEqual(4);
      child.kill(signal);
      expect((await exited(child)).code).toBe(code);
      expect(pids.filter(pidAlive)).toEqual([]);
      const records = journal();
      expect(records.find((r) => r.type === 'interrupted')).toMatchObject({ signal, steps: ['fork'] });
      expect(records.at(-1)).toMatchObject({ type: 'run-end', outcome: 'interrupted' });
      expect(records.some((r) => r.type === 'step-start' && r.id === 'next')).toBe(false);
      expect(existsSync(join(work(), 'next'))).toBe(false);
    }, 60_000);
  }

  it('a step timeout kills the whole tree, SIGTERM-ignoring grandchildren included', async () => {
    setup(stubborn('    timeout: 1s\n'));
    const result = await runCli(args(), { cwd: repo.dir, env: env() });
    expect(result.code).toBe(1);
    expect(result.stdout + result.stderr).toMatch(/\[fork\] failed: run timed out after 1000 ms \(process group killed\)/);
    await sleep(50);
    expect(stepPids().length).toBe(4);
    expect(stepPids().filter(pidAlive)).toEqual([]);
    expect(existsSync(join(work(), 'next'))).toBe(false);
    expect(journal().some((r) => r.type === 'step-start' && r.id === 'next')).toBe(false);
  }, 60_000);
});

describe('one run at a time', () => {
  const lockFile = () => join(repo.dir, '.state', 'locks', 'stubborn.lock');
  const writeLock = (pid: number, host: string) => {
    mkdirSync(join(repo.dir, '.state', 'locks'), { recursive: true });
    writeFileSync(lockFile(), JSON.stringify({ pid, host, startedAt: '2026-11-26T01:02:03.000Z', runId: '20261126T010203Z-1' }) + '\n');
  };
  const deadPid = () => {
    const gone = spawnSync('true');
    return gone.pid!;
  };

  it('a lock left by a dead PID on this host is taken over with a warning', async () => {
    setup('runbook: 1\nname: stubborn\nsteps:\n  - id: quick\n    run: touch "$WORK/started"\n    verify: test -e "$WORK/started"\n');
    writeLock(deadPid(), hostname());
    const result = await runCli(args(), { cwd: repo.dir, env: env() });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(
      /took over a stale lock of pid \d+ \(started 2026-11-26T01:02:03.000Z, run 20261126T010203Z-1\): that process is gone/,
    );
  });

  it('a lock from another host is never broken, even when its PID is dead here (exit 4)', async () => {
    setup(stubborn());
    writeLock(deadPid(), 'other-host.example');
    const before = readFileSync(lockFile(), 'utf8');
    const result = await runCli(args(), { cwd: repo.dir, env: env() });
    expect(result.code).toBe(4);
    expect(result.stderr).toMatch(
      /locked by pid \d+ on host other-host\.example, started 2026-11-26T01:02:03\.000Z.*another host, so it is never broken automatically/,
    );
    expect(readFileSync(lockFile(), 'utf8')).toBe(before);
    expect(existsSync(join(work(), 'started'))).toBe(false);
  });

  it('a second concurrent exec exits 4 naming the holder (see also test/engine/exec-cli.test.ts)', async () => {
    setup(stubborn());
    const first = startCli(args(), { cwd: repo.dir, env: env() });
    await waitUntil(() => existsSync(join(work(), 'started')), 'the first run to be mid-step');
    const second = await runCli(args(), { cwd: repo.dir, env: env() });
    first.kill('SIGTERM');
    await exited(first);
    expect(second.code).toBe(4);
    expect(second.stderr).toMatch(new RegExp(`locked by pid ${first.pid} on host ${hostname().replace(/\./g, '\\.')}, started \\d{4}-`));
  }, 60_000);
});
