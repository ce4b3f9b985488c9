// The scheduler: runs a resolved plan's steps in order (or in parallel where `needs` allows),
// verifies each, retries, polls, skips, runs cleanup, and reports everything as events. A step
// is done only when its run exited 0 and its verification passed.
import { closeSync, mkdirSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { withoutNodeModulesBin } from '../shell/path.js';
import { shellQuote } from '../shell/quote.js';
import { hostname, userInfo } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Plan, PlannedStep, ResolvedVerify, StepShell } from './plan-types.js';
import type { EngineEvent, EventListener, RunOutcome, StepStatus, TimedEvent, VerifyResult } from './events.js';
import { isJournaled } from './events.js';
import { createMasker, maskDeep, type Masker } from './mask.js';
import { openJournal, runDirectory } from './journal.js';
import { runShell, type ShellResult } from './spawn.js';
import { readOutputs } from './outputs.js';

/** Outputs of finished steps, by full step id. */
export type StepOutputs = Record<string, Record<string, string>>;

/** The parts of resolution that happen while running (implemented by resolve.ts). */
export interface StepResolver {
  resolveStepShell: (plan: Plan, step: PlannedStep, outputs: StepOutputs) => StepShell;
  evaluateWhen: (plan: Plan, step: PlannedStep, outputs: StepOutputs, processEnv: Record<string, string | undefined>) => boolean;
  stepEnvironment: (plan: Plan, secrets: Record<string, string>) => Record<string, string>;
}

/** What a resumed run already achieved, read from its journal. */
export interface ResumeState {
  runId: string;
  nextSeq: number;
  /** Steps with a verified `step-done` record. */
  done: Map<string, { hash: string; outputs: Record<string, string> }>;
}

export interface RunOptions {
  plan: Plan;
  resolver: StepResolver;
  stateDir: string;
  /** The environment steps inherit (process env plus --env-file). */
  processEnv: Record<string, string | undefined>;
  /** Values of the declared secrets, by name. */
  secrets: Record<string, string>;
  /** A fresh run's id; ignored when resuming. */
  runId: string;
  resume?: ResumeState;
  /** Answer yes to every confirmation. @default false */
  yes?: boolean;
  /** Skip the steps before this one. */
  from?: string;
  /** Run only these steps. */
  only?: string[];
  /** Independent steps run at the same time. @default 1 */
  concurrency?: number;
  /** Between SIGTERM and SIGKILL of a step's process group. @default 5000 */
  graceMs?: number;
  /** How long a manual step's verification is polled without a TTY. @default 600000 */
  manualTimeoutMs?: number;
  /** Aborted on SIGINT/SIGTERM (reason: the signal's name): the running steps are killed. */
  signal?: AbortSignal;
  /** Aborted on a second signal: stops cleanup too. */
  cleanupSignal?: AbortSignal;
  /** Asks the operator (a TTY); absent when nobody can answer. */
  ask?: (question: string) => Promise<string>;
  /** Receives every event, masked and timed. */
  onEvent?: EventListener | EventListener[];
  /** Recorded in the journal's run start. */
  commit?: string;
  flags?: Record<string, unknown>;
  /** Working directory of the steps. @default process.cwd() */
  cwd?: string;
}

export interface StepResult {
  id: string;
  name: string;
  cleanup: boolean;
  status: StepStatus;
  attempts: number;
  startedAt?: string;
  durationMs?: number;
  exitCodes: (number | null)[];
  /** The last verification's stdout, masked. */
  verifyOutput?: string;
  outputs: Record<string, string>;
  /** Why it was skipped or failed. */
  reason?: string;
  /** A failure tolerated by continue_on_error. */
  tolerated?: boolean;
}

export interface RunResult {
  runId: string;
  runbook: string;
  outcome: RunOutcome;
  startedAt: string;
  durationMs: number;
  steps: StepResult[];
  failedStep?: string;
  journal: string;
  log: string;
}

/**
 * The PATH steps see: npm and npx put `node_modules/.bin` first, where shims such as rclone.js's
 * `rclone` would hide the system binaries a runbook means.
 */
export const stepPath = (path: string | undefined): string => withoutNodeModulesBin(path ?? '/usr/local/bin:/usr/bin:/bin');

const cliEntry = fileURLToPath(new URL('../../bin/runbook.js', import.meta.url));

/** A `runbook` command for steps to call (the package's bin is `runbook.js`, npm names it). */
const writeShim = (runDir: string): string => {
  const dir = join(runDir, 'bin');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'runbook'), `#!/bin/sh\nexec ${shellQuote(process.execPath)} ${shellQuote(cliEntry)} "$@"\n`, { mode: 0o755 });
  return dir;
};

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });

const tail = (text: string, max = 4096) => (text.length > max ? text.slice(-max) : text);

type StepEnd = 'done' | 'failed' | 'skipped' | 'interrupted' | 'aborted';

/** Runs `plan` and returns what happened; never throws for a failing step. */
export const runPlan = async (options: RunOptions): Promise<RunResult> => {
  const { plan, resolver } = options;
  const runId = options.resume?.runId ?? options.runId;
  const runDir = runDirectory(options.stateDir, runId);
  const outputsDir = join(runDir, 'outputs');
  mkdirSync(outputsDir, { recursive: true });
  const journal = openJournal(join(runDir, 'journal.jsonl'), options.resume?.nextSeq ?? 1);
  const logPath = join(runDir, 'log.txt');
  const logFd = openSync(logPath, 'a', 0o600);
  const mask: Masker = createMasker(Object.values(options.secrets));
  const listeners = [options.onEvent ?? []].flat();
  const started = new Date();
  const startedMs = performance.now();

  const log = (t: string, text: string) => writeSync(logFd, `${t} ${text}\n`);
  const emit = (event: EngineEvent) => {
    const timed = { ...maskDeep(event, mask), t: new Date().toISOString() } as TimedEvent;
    if (isJournaled(timed)) {
      const { t, type, ...rest } = timed;
      journal.append({ t, type, ...rest });
    }
    if (timed.type === 'step-output')
      log(timed.t, `[${timed.id}]${timed.phase === 'verify' ? ' verify' : ''} ${timed.stream === 'stderr' ? '!' : '|'} ${timed.line}`);
    else log(timed.t, `-- ${JSON.stringify(timed)}`);
    for (const listener of listeners) listener(timed);
  };

  const results = new Map<string, StepResult>();
  for (const step of [...plan.steps, ...plan.cleanup]) {
    results.set(step.id, {
      id: step.id,
      name: step.name,
      cleanup: step.cleanup,
      status: 'pending',
      attempts: 0,
      exitCodes: [],
      outputs: {},
    });
  }
  const outputs: StepOutputs = {};
  const secretEnv = resolver.stepEnvironment(plan, options.secrets);
  const inherited = Object.fromEntries(
    Object.entries(options.processEnv).filter((entry): entry is [string, string] => entry[1] !== undefined),
  );
  const baseEnv: Record<string, string> = {
    ...inherited,
    ...secretEnv,
    RUNBOOK_RUN_ID: runId,
    RUNBOOK_NAME: plan.name,
    RUNBOOK_STATE_DIR: options.stateDir,
    PATH: `${writeShim(runDir)}:${stepPath(inherited.PATH)}`,
  };

  emit({
    type: 'run-start',
    runId,
    runbook: plan.name,
    file: plan.file,
    contentHash: plan.contentHash,
    commit: options.commit,
    environment: plan.environment,
    vars: plan.vars,
    flags: options.flags ?? {},
    pid: process.pid,
    host: hostname(),
    user: userInfo().username,
    resumed: options.resume !== undefined,
    steps: [...plan.steps, ...plan.cleanup].map((s) => ({ id: s.id, name: s.name, cleanup: s.cleanup })),
  });

  let abortedByOperator = false;

  const runOnce = (
    text: string,
    env: Record<string, string>,
    step: PlannedStep,
    phase: 'run' | 'verify',
    timeoutMs: number | undefined,
    signal?: AbortSignal,
  ) =>
    runShell({
      text,
      env,
      cwd: options.cwd,
      timeoutMs,
      graceMs: options.graceMs,
      signal,
      onLine: (stream, line) => emit({ type: 'step-output', id: step.id, phase, stream, line }),
    });

  const verifyOnce = async (verify: ResolvedVerify, env: Record<string, string>, step: PlannedStep, signal?: AbortSignal) => {
    const shell = await runOnce(verify.run, env, step, 'verify', verify.timeoutMs, signal);
    let reason: string | undefined;
    if (shell.timedOut) reason = `verification timed out after ${verify.timeoutMs} ms`;
    else if (shell.exitCode !== 0) reason = `verification exited ${shell.exitCode ?? shell.signal}`;
    else if (verify.expect !== undefined && !new RegExp(verify.expect, 'm').test(shell.stdout))
      reason = `verification output does not match /${verify.expect}/`;
    return { shell, reason };
  };

  /** Polls the verification up to 1 + retries times (or until `deadline`). */
  const verifyStep = async (
    verify: ResolvedVerify,
    env: Record<string, string>,
    step: PlannedStep,
    signal?: AbortSignal,
    deadline?: number,
  ): Promise<VerifyResult & { aborted: boolean }> => {
    let polls = 0;
    for (;;) {
      polls++;
      const { shell, reason } = await verifyOnce(verify, env, step, signal);
      const result = {
        passed: reason === undefined,
        exitCode: shell.exitCode,
        polls,
        reason,
        output: mask(tail(shell.stdout)),
        aborted: shell.aborted,
      };
      if (result.passed || shell.aborted || signal?.aborted) return result;
      const more = deadline !== undefined ? Date.now() + verify.intervalMs < deadline : polls <= verify.retries;
      if (!more) return result;
      await sleep(verify.intervalMs, signal);
      if (signal?.aborted) return { ...result, aborted: true };
    }
  };

  const executeStep = async (step: PlannedStep, signal?: AbortSignal): Promise<StepEnd> => {
    const result = results.get(step.id)!;
    const skip = (reason: string): StepEnd => {
      result.status = 'skipped';
      result.reason = reason;
      emit({ type: 'step-skipped', id: step.id, reason });
      return 'skipped';
    };
    const fail = (error: string, began: number): StepEnd => {
      result.status = 'failed';
      result.reason = error;
      result.tolerated = step.continueOnError;
      result.durationMs = Math.round(performance.now() - began);
      emit({
        type: 'step-failed',
        id: step.id,
        hash: step.hash,
        attempts: result.attempts,
        durationMs: result.durationMs,
        error,
        tolerated: step.continueOnError,
      });
      return 'failed';
    };

    if (step.when !== undefined) {
      let go: boolean;
      try {
        go = resolver.evaluateWhen(plan, step, outputs, options.processEnv);
      } catch (error) {
        result.startedAt = new Date().toISOString();
        return fail(`when: ${(error as Error).message}`, performance.now());
      }
      if (!go) return skip(`when is false: ${step.when}`);
    }

    if (step.confirm !== undefined) {
      let answer: 'yes' | 'no' | 'assumed-yes';
      if (options.yes) answer = 'assumed-yes';
      else if (options.ask) answer = /^\s*y(es)?\s*$/i.test(await options.ask(`${step.confirm} [y/N] `)) ? 'yes' : 'no';
      else answer = 'no';
      emit({ type: 'confirm', id: step.id, question: step.confirm, answer });
      if (answer === 'no') {
        abortedByOperator = true;
        return skip('confirmation declined');
      }
    }

    result.status = 'running';
    result.startedAt = new Date().toISOString();
    const began = performance.now();
    emit({ type: 'step-start', id: step.id, name: step.name, hash: step.hash, cleanup: step.cleanup });

    let shell: StepShell;
    try {
      shell = step.deferred ? resolver.resolveStepShell(plan, step, outputs) : step;
    } catch (error) {
      return fail(`cannot resolve the step: ${(error as Error).message}`, began);
    }
    const outputFile = join(outputsDir, `${step.id}.env`);
    const env = { ...baseEnv, ...shell.env, RUNBOOK_STEP: step.id, RUNBOOK_OUTPUT: outputFile };

    const interrupted = (): StepEnd => {
      result.status = 'interrupted';
      result.durationMs = Math.round(performance.now() - began);
      return 'interrupted';
    };
    const succeed = (exitCode: number | null, verify: VerifyResult): StepEnd => {
      result.status = 'done';
      result.outputs = readOutputs(outputFile);
      // The raw file may hold a secret a step printed; the journal keeps the masked copy.
      rmSync(outputFile, { force: true });
      result.durationMs = Math.round(performance.now() - began);
      outputs[step.id] = result.outputs;
      emit({
        type: 'step-done',
        id: step.id,
        hash: step.hash,
        attempts: result.attempts,
        durationMs: result.durationMs,
        outputs: result.outputs,
        exitCode,
        verify,
      });
      return 'done';
    };

    if (step.kind === 'manual' || shell.run === undefined) {
      emit({ type: 'manual', id: step.id, instructions: step.manual ?? step.name });
      for (;;) {
        result.attempts++;
        let verify: VerifyResult & { aborted: boolean };
        if (options.ask) {
          const answer = await options.ask('Press Enter once done (or type abort): ');
          if (/^\s*abort\s*$/i.test(answer)) {
            abortedByOperator = true;
            return fail('aborted by the operator', began);
          }
          verify = await verifyStep(shell.verify, env, step, signal);
        } else {
          verify = await verifyStep(shell.verify, env, step, signal, Date.now() + (step.timeoutMs ?? options.manualTimeoutMs ?? 600_000));
        }
        if (verify.aborted || signal?.aborted) return interrupted();
        result.verifyOutput = verify.output;
        if (verify.passed) return succeed(null, stripAborted(verify));
        emit({
          type: 'step-attempt',
          id: step.id,
          attempt: result.attempts,
          exitCode: null,
          signal: null,
          timedOut: false,
          durationMs: Math.round(performance.now() - began),
          verify: stripAborted(verify),
        });
        if (!options.ask) return fail(`manual step not verified before its timeout: ${verify.reason}`, began);
      }
    }

    let lastError = '';
    for (let attempt = 1; attempt <= step.retries + 1; attempt++) {
      result.attempts = attempt;
      rmSync(outputFile, { force: true });
      const attemptBegan = performance.now();
      const run: ShellResult = await runOnce(shell.run, env, step, 'run', step.timeoutMs, signal);
      result.exitCodes.push(run.exitCode);
      if (run.aborted) return interrupted();
      let verify: (VerifyResult & { aborted: boolean }) | undefined;
      if (run.exitCode === 0) {
        verify = await verifyStep(shell.verify, env, step, signal);
        if (verify.aborted) return interrupted();
        result.verifyOutput = verify.output;
      }
      // A passing attempt is recorded by step-done itself: one fsync fewer per step.
      if (verify?.passed) return succeed(run.exitCode, stripAborted(verify));
      emit({
        type: 'step-attempt',
        id: step.id,
        attempt,
        exitCode: run.exitCode,
        signal: run.signal,
        timedOut: run.timedOut,
        durationMs: Math.round(performance.now() - attemptBegan),
        verify: verify && stripAborted(verify),
      });
      lastError = run.timedOut
        ? `run timed out after ${step.timeoutMs} ms (process group killed)`
        : run.exitCode !== 0
          ? `run exited ${run.exitCode ?? run.signal}`
          : (verify?.reason ?? 'verification failed');
    }
    return fail(step.retries > 0 ? `${lastError} (after ${step.retries + 1} attempts)` : lastError, began);
  };

  // Steps settled before the scheduler starts: done in an earlier attempt, or not selected.
  const satisfied = new Set<string>();
  const settled = new Set<string>();
  const selected = selectSteps(plan, options.from, options.only);
  for (const step of plan.steps) {
    const done = options.resume?.done.get(step.id);
    const result = results.get(step.id)!;
    if (done && done.hash === step.hash) {
      result.status = 'skipped';
      result.reason = 'done earlier in this run';
      result.outputs = done.outputs;
      outputs[step.id] = done.outputs;
      emit({ type: 'step-skipped', id: step.id, reason: result.reason });
    } else if (!selected.has(step.id)) {
      result.status = 'skipped';
      result.reason = 'not selected';
      emit({ type: 'step-skipped', id: step.id, reason: result.reason });
    } else continue;
    satisfied.add(step.id);
    settled.add(step.id);
  }

  let stopped = false;
  const concurrency = Math.max(1, options.concurrency ?? 1);
  const pending = plan.steps.filter((step) => !settled.has(step.id));
  const running = new Map<string, Promise<void>>();
  const known = new Set(plan.steps.map((step) => step.id));

  const start = (step: PlannedStep) => {
    const promise = executeStep(step, options.signal).then((end) => {
      running.delete(step.id);
      settled.add(step.id);
      if (end === 'done' || (end === 'skipped' && !abortedByOperator)) satisfied.add(step.id);
      if (end === 'failed' && !step.continueOnError) stopped = true;
      if (end === 'aborted' || abortedByOperator || end === 'interrupted') stopped = true;
    });
    running.set(step.id, promise);
  };

  for (;;) {
    if (options.signal?.aborted) stopped = true;
    if (!stopped) {
      for (let i = 0; i < pending.length && running.size < concurrency;) {
        const step = pending[i]!;
        const needs = step.needs.filter((id) => known.has(id));
        const unmet = needs.find((id) => settled.has(id) && !satisfied.has(id));
        if (unmet) {
          pending.splice(i, 1);
          settled.add(step.id);
          const result = results.get(step.id)!;
          result.status = 'skipped';
          result.reason = `needs '${unmet}', which did not succeed`;
          emit({ type: 'step-skipped', id: step.id, reason: result.reason });
          continue;
        }
        if (needs.every((id) => satisfied.has(id))) {
          pending.splice(i, 1);
          start(step);
          // Without concurrency, file order is the order: never overtake a step still waiting.
          if (concurrency === 1) break;
          continue;
        }
        i++;
      }
    }
    if (running.size === 0) break;
    await Promise.race(running.values());
  }

  const interruptedBy = options.signal?.aborted ? String(options.signal.reason ?? 'SIGINT') : undefined;
  if (interruptedBy) {
    emit({
      type: 'interrupted',
      signal: interruptedBy,
      steps: [...results.values()].filter((r) => r.status === 'interrupted').map((r) => r.id),
    });
  }

  // Cleanup always runs, after failures and interrupts too; only a second signal stops it.
  for (const step of plan.cleanup) {
    if (options.cleanupSignal?.aborted) break;
    await executeStep(step, options.cleanupSignal);
  }

  const all = [...results.values()];
  const failed = all.find((r) => r.status === 'failed' && !r.tolerated);
  const outcome: RunOutcome = interruptedBy ? 'interrupted' : abortedByOperator ? 'aborted' : failed ? 'failed' : 'success';
  const durationMs = Math.round(performance.now() - startedMs);
  emit({ type: 'run-end', outcome, durationMs, failedStep: failed?.id });
  journal.close();
  closeSync(logFd);
  rmSync(outputsDir, { recursive: true, force: true });
  return {
    runId,
    runbook: plan.name,
    outcome,
    startedAt: started.toISOString(),
    durationMs,
    steps: all,
    failedStep: failed?.id,
    journal: journal.path,
    log: logPath,
  };
};

const stripAborted = ({ aborted: _aborted, ...verify }: VerifyResult & { aborted: boolean }): VerifyResult => verify;

/** The ids `--from`/`--only` select (all steps when neither is given). */
export const selectSteps = (plan: Plan, from?: string, only?: string[]): Set<string> => {
  const ids = plan.steps.map((step) => step.id);
  // An include's id alone names all of its steps.
  const matches = (id: string, wanted: string) => id === wanted || id.startsWith(`${wanted}.`);
  if (only && only.length > 0) return new Set(ids.filter((id) => only.some((wanted) => matches(id, wanted))));
  if (from !== undefined)
    return new Set(
      ids.slice(
        Math.max(
          0,
          ids.findIndex((id) => matches(id, from)),
        ),
      ),
    );
  return new Set(ids);
};
