import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runPlan, type RunOptions } from '../../src/engine/run.js';
import type { TimedEvent } from '../../src/engine/events.js';
import { groupMembers } from '../../src/engine/spawn.js';
import { readJournal } from '../../src/engine/journal.js';
import { makePlan, type StepSpec } from './make-plan.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'runbook-run-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const run = (steps: StepSpec[], options: Partial<RunOptions> & { cleanupSteps?: StepSpec[]; secretsDeclared?: string[] } = {}) => {
  const { cleanupSteps, secretsDeclared, ...rest } = options;
  const events: TimedEvent[] = [];
  const plan = makePlan(steps, { cleanupSteps, secrets: secretsDeclared ?? [] });
  return runPlan({
    plan,
    stateDir: join(dir, 'state'),
    processEnv: { ...process.env, WORK: dir },
    secrets: {},
    runId: 'run-1',
    graceMs: 300,
    onEvent: (e) => events.push(e),
    ...rest,
  }).then((result) => ({ result, events, status: (id: string) => result.steps.find((s) => s.id === id)!.status }));
};

const counter = (name: string) =>
  existsSync(join(dir, name)) ? readFileSync(join(dir, name), 'utf8').split('\n').filter(Boolean).length : 0;
const bump = (name: string) => `echo x >> "$WORK/${name}"`;

describe('runPlan', () => {
  it('fails a step whose pipeline fails in the middle (pipefail)', async () => {
    const { result, status } = await run([{ id: 'pipe', run: 'false | cat' }]);
    expect(status('pipe')).toBe('failed');
    expect(result.outcome).toBe('failed');
    expect(result.steps[0]!.exitCodes).toEqual([1]);
  });

  it('fails a step whose verification fails after a successful run, and does not run its dependants', async () => {
    const { result, status } = await run([
      { id: 'a', run: bump('a'), verify: 'test -e /nonexistent' },
      { id: 'b', run: bump('b'), needs: ['a'] },
    ]);
    expect(status('a')).toBe('failed');
    expect(result.steps[0]!.reason).toMatch(/verification exited 1/);
    expect(counter('a')).toBe(1);
    expect(counter('b')).toBe(0);
    expect(result.failedStep).toBe('a');
  });

  it('checks `expect` against the verification output', async () => {
    const { status } = await run([
      { id: 'ok', verify: { run: 'echo "status: running"', expect: 'running$' } },
      { id: 'bad', verify: { run: 'echo "status: stopped"', expect: 'running$' } },
    ]);
    expect(status('ok')).toBe('done');
    expect(status('bad')).toBe('failed');
  });

  it('fails a step whose `expect` is no regular expression, with a message, and runs the cleanup', async () => {
    // Lint refuses such a runbook; a plan that reaches the engine anyway must not crash it.
    const { result, status, events } = await run([{ id: 'broken', verify: { run: 'echo ready', expect: '[ready' } }, { id: 'after' }], {
      cleanupSteps: [{ id: 'tidy', run: bump('tidy') }],
    });
    expect(status('broken')).toBe('failed');
    expect(status('after')).not.toBe('done');
    expect(counter('tidy')).toBe(1);
    expect(result.outcome).toBe('failed');
    expect(JSON.stringify(events)).toContain('verify.expect /[ready/ is no regular expression: unterminated character class');
  });

  it('retries run+verify and polls verification until it passes', async () => {
    // run fails twice then succeeds; verify passes on its third poll of that attempt.
    const { result, status } = await run([
      {
        id: 'flaky',
        retries: 3,
        run: `${bump('runs')}; test "$(wc -l < "$WORK/runs")" -ge 3`,
        verify: { run: `${bump('polls')}; test "$(wc -l < "$WORK/polls")" -ge 3`, retries: 5, intervalMs: 10 },
      },
    ]);
    expect(status('flaky')).toBe('done');
    expect(counter('runs')).toBe(3);
    expect(counter('polls')).toBe(3);
    expect(result.steps[0]!.attempts).toBe(3);
    expect(result.steps[0]!.exitCodes).toEqual([1, 1, 0]);
  });

  it('gives up after the retries are spent', async () => {
    const { result, status } = await run([{ id: 'never', retries: 2, run: `${bump('runs')}; exit 3` }]);
    expect(status('never')).toBe('failed');
    expect(counter('runs')).toBe(3);
    expect(result.steps[0]!.reason).toMatch(/exited 3 \(after 3 attempts\)/);
  });

  it('kills the whole process tree on timeout, grandchildren that ignore SIGTERM included', async () => {
    const script = `
      trap '' TERM
      ( trap '' TERM; echo $BASHPID > "$WORK/grandchild"; while :; do sleep 0.05; done ) &
      echo $$ > "$WORK/leader"
      while :; do sleep 0.05; done`;
    const started = performance.now();
    const { result, status } = await run([
      { id: 'slow', run: script, timeoutMs: 400 },
      { id: 'next', run: bump('next') },
    ]);
    const elapsed = performance.now() - started;
    expect(status('slow')).toBe('failed');
    expect(result.steps[0]!.reason).toMatch(/timed out/);
    const leader = Number(readFileSync(join(dir, 'leader'), 'utf8'));
    const grandchild = Number(readFileSync(join(dir, 'grandchild'), 'utf8'));
    const alive = (pid: number) => existsSync(`/proc/${pid}`) && !/^\S+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
    expect(alive(leader)).toBe(false);
    expect(alive(grandchild)).toBe(false);
    expect(groupMembers(leader)).toEqual([]);
    // TERM was ignored, so KILL after the 300 ms grace ended it.
    expect(elapsed).toBeGreaterThan(650);
    expect(counter('next')).toBe(0);
  });

  it('goes on after a continue_on_error failure but skips its dependants', async () => {
    const { result, status } = await run([
      { id: 'optional', run: 'exit 1', continueOnError: true },
      { id: 'dependant', needs: ['optional'], run: bump('dependant') },
      { id: 'independent', run: bump('independent') },
    ]);
    expect(status('optional')).toBe('failed');
    expect(status('dependant')).toBe('skipped');
    expect(status('independent')).toBe('done');
    expect(counter('dependant')).toBe(0);
    expect(counter('independent')).toBe(1);
    expect(result.outcome).toBe('success');
  });

  it('stops at a failure and still runs cleanup', async () => {
    const { result, status } = await run(
      [
        { id: 'boom', run: 'exit 1' },
        { id: 'after', run: bump('after') },
      ],
      { cleanupSteps: [{ id: 'tidy', run: bump('tidy') }] },
    );
    expect(result.outcome).toBe('failed');
    expect(status('after')).toBe('pending');
    expect(counter('after')).toBe(0);
    expect(status('tidy')).toBe('done');
    expect(counter('tidy')).toBe(1);
  });

  it('skips a step whose `when` is false and records why', async () => {
    const { status, events } = await run([
      { id: 'maybe', when: 'false', run: bump('maybe') },
      { id: 'then', needs: ['maybe'], run: bump('then') },
    ]);
    expect(status('maybe')).toBe('skipped');
    expect(counter('maybe')).toBe(0);
    expect(status('then')).toBe('done');
    expect(events.find((e) => e.type === 'step-skipped')).toMatchObject({ id: 'maybe', reason: expect.stringMatching(/when is false/) });
  });

  it('publishes key=value outputs to later steps', async () => {
    const { result } = await run([
      { id: 'produce', run: 'echo "answer=42" >> "$RUNBOOK_OUTPUT"; echo "not an output line" >> "$RUNBOOK_OUTPUT"' },
      { id: 'consume', deferred: true, env: { GOT: '${{ steps.produce.outputs.answer }}' }, run: 'echo "$GOT" > "$WORK/got"' },
    ]);
    expect(result.steps[0]!.outputs).toEqual({ answer: '42' });
    expect(readFileSync(join(dir, 'got'), 'utf8').trim()).toBe('42');
  });

  it('exports the run variables and puts the package bin on PATH', async () => {
    await run([
      {
        id: 'env',
        run: 'echo "$RUNBOOK_RUN_ID $RUNBOOK_STEP $RUNBOOK_NAME" > "$WORK/env"; command -v runbook > "$WORK/which"; test ! -t 0',
      },
    ]);
    expect(readFileSync(join(dir, 'env'), 'utf8').trim()).toBe('run-1 env test-runbook');
    expect(readFileSync(join(dir, 'which'), 'utf8').trim()).toBe(join(dir, 'state/runs/run-1/bin/runbook'));
  });

  it('runs independent steps at the same time with concurrency', async () => {
    const started = performance.now();
    const { result } = await run(
      [
        { id: 'a', run: 'sleep 0.4' },
        { id: 'b', run: 'sleep 0.4' },
        { id: 'c', run: 'sleep 0.4' },
      ],
      { concurrency: 3 },
    );
    expect(result.outcome).toBe('success');
    expect(performance.now() - started).toBeLessThan(1100);
  });

  it('kills the running step on interrupt, never starts the next, runs cleanup, journals it', async () => {
    const controller = new AbortController();
    const promise = run(
      [
        { id: 'long', run: `${bump('long')}; sleep 30` },
        { id: 'next', run: bump('next') },
      ],
      { signal: controller.signal, cleanupSteps: [{ id: 'tidy', run: bump('tidy') }] },
    );
    while (counter('long') === 0) await new Promise((r) => setTimeout(r, 20));
    controller.abort('SIGINT');
    const { result, status } = await promise;
    expect(result.outcome).toBe('interrupted');
    expect(status('long')).toBe('interrupted');
    expect(counter('next')).toBe(0);
    expect(counter('tidy')).toBe(1);
    const { records } = readJournal(result.journal);
    expect(records.find((r) => r.type === 'interrupted')).toMatchObject({ signal: 'SIGINT', steps: ['long'] });
    expect(records.some((r) => r.type === 'step-done' && r.id === 'long')).toBe(false);
  });

  it('refuses an unconfirmed step when nobody can answer, and asks when someone can', async () => {
    const declined = await run([
      { id: 'danger', confirm: 'Drop it?', run: bump('danger') },
      { id: 'later', run: bump('later') },
    ]);
    expect(declined.result.outcome).toBe('aborted');
    expect(counter('danger')).toBe(0);
    expect(counter('later')).toBe(0);
    const questions: string[] = [];
    const yes = await run([{ id: 'danger', confirm: 'Drop it?', run: bump('danger') }], { ask: async (q) => (questions.push(q), 'y') });
    expect(yes.result.outcome).toBe('success');
    expect(questions).toEqual(['Drop it? [y/N] ']);
  });

  it('waits for a manual step and verifies it (asking again until it passes)', async () => {
    let asked = 0;
    const { status } = await run([{ id: 'hand', manual: 'Plug in the disk', verify: 'test -e "$WORK/disk"' }], {
      ask: async () => {
        asked++;
        if (asked === 2) writeFileSync(join(dir, 'disk'), '');
        return '';
      },
    });
    expect(status('hand')).toBe('done');
    expect(asked).toBe(2);
    const aborted = await run([{ id: 'hand', manual: 'Never', verify: 'false' }], { ask: async () => 'abort' });
    expect(aborted.result.outcome).toBe('aborted');
  });

  it('polls a manual step without a TTY until its timeout', async () => {
    setTimeout(() => writeFileSync(join(dir, 'done-by-hand'), ''), 300);
    const { status } = await run([
      { id: 'hand', manual: 'Do it', timeoutMs: 5000, verify: { run: 'test -e "$WORK/done-by-hand"', intervalMs: 50 } },
    ]);
    expect(status('hand')).toBe('done');
    const late = await run([{ id: 'hand2', manual: 'Do it', timeoutMs: 300, verify: { run: 'false', intervalMs: 50 } }]);
    expect(late.status('hand2')).toBe('failed');
  });

  it('masks secrets, multi-line ones included, in every file under the state dir and in events', async () => {
    const secret = 'hunter2-very-secret';
    const pem = '-----BEGIN KEY-----\nAAAAline-one-of-key\nBBBBline-two-of-key\n-----END KEY-----';
    const events: TimedEvent[] = [];
    const result = await runPlan({
      plan: makePlan(
        [
          {
            id: 'leak',
            run: 'echo "pw=$PW"; printf "%s\\n" "$PEM"; echo "$PEM" | sed -n 2p >&2; echo "token=$PW" >> "$RUNBOOK_OUTPUT"; exit 1',
            env: {},
          },
        ],
        { secrets: ['PW', 'PEM'] },
      ),
      stateDir: join(dir, 'state'),
      processEnv: { ...process.env, PW: secret, PEM: pem },
      secrets: { PW: secret, PEM: pem },
      runId: 'run-s',
      onEvent: (e) => events.push(e),
    });
    expect(result.outcome).toBe('failed');
    const files: string[] = [];
    const walk = (d: string) => {
      for (const entry of readdirSync(d)) {
        const path = join(d, entry);
        if (statSync(path).isDirectory()) walk(path);
        else files.push(path);
      }
    };
    walk(join(dir, 'state'));
    expect(files.length).toBeGreaterThanOrEqual(2);
    const everything = files.map((f) => readFileSync(f, 'utf8')).join('\n') + JSON.stringify(events);
    for (const needle of [secret, 'AAAAline-one-of-key', 'BBBBline-two-of-key']) expect(everything).not.toContain(needle);
    expect(readFileSync(result.log, 'utf8')).toContain('pw=***');
  });
});
