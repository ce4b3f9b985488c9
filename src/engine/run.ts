// Runs a resolved plan and returns what happened: the run's start and end around the scheduler
// (scheduler.ts) and cleanup. A step is done only when its run exited 0 and its verification
// passed (run-step.ts, attempts.ts, manual-step.ts, verification.ts).
import { rmSync } from 'node:fs';
import { hostname, userInfo } from 'node:os';
import { dirname } from 'node:path';
import { ExitCode, ExitError } from '../errors.js';
import type { RunOutcome } from './events.js';
import { closeRun, faultRun, openRun, type RunContext } from './run-context.js';
import type { RunOptions, RunResult } from './run-types.js';
import { runCleanup, runSteps } from './scheduler.js';

export type { ResumeState, RunOptions, RunResult, StepOutputs, StepResult } from './run-types.js';

const emitRunStart = (run: RunContext) => {
  const { plan, options } = run;
  run.emit({
    type: 'run-start',
    runId: run.runId,
    runbook: plan.name,
    file: plan.file,
    contentHash: plan.contentHash,
    commit: options.commit,
    dirty: options.dirty?.length ? options.dirty : undefined,
    environment: plan.environment,
    vars: plan.vars,
    inputs: options.inputs,
    flags: options.flags ?? {},
    pid: process.pid,
    host: hostname(),
    user: userInfo().username,
    resumed: options.resume !== undefined,
    steps: [...plan.steps, ...plan.cleanup].map((s) => ({ id: s.id, name: s.name, cleanup: s.cleanup })),
  });
};

/** Records the signal that stopped the run and the steps it interrupted; the signal's name, if any. */
const recordInterrupt = (run: RunContext): string | undefined => {
  const { signal } = run.options;
  if (!signal?.aborted) return undefined;
  const interruptedBy = String(signal.reason ?? 'SIGINT');
  const steps = [...run.results.values()].filter((r) => r.status === 'interrupted').map((r) => r.id);
  run.emit({ type: 'interrupted', signal: interruptedBy, steps });
  return interruptedBy;
};

const finishRun = (run: RunContext, interruptedBy: string | undefined): RunResult => {
  const all = [...run.results.values()];
  const failed = all.find((r) => r.status === 'failed' && !r.tolerated);
  const faulted = run.fault ? 'failed' : undefined;
  const outcome: RunOutcome = interruptedBy
    ? 'interrupted'
    : (faulted ?? (run.abortedByOperator ? 'aborted' : failed ? 'failed' : 'success'));
  const durationMs = Math.round(performance.now() - run.startedMs);
  run.emit({ type: 'run-end', outcome, durationMs, failedStep: failed?.id, error: run.fault?.message });
  closeRun(run);
  return {
    runId: run.runId,
    runbook: run.plan.name,
    outcome,
    startedAt: run.started.toISOString(),
    durationMs,
    steps: all,
    failedStep: failed?.id,
    journal: run.journal.path,
    log: run.logPath,
    fault: run.fault,
  };
};

/**
 * A run-start that cannot be recorded means nothing can be: refuse before any step (exit 2), and
 * leave no empty run folder behind for `--resume` and `status` to trip over.
 */
const refuseUnrecorded = (run: RunContext): never => {
  const message = `${run.fault!.message}; nothing was run`;
  closeRun(run);
  if (!run.options.resume) rmSync(dirname(run.journal.path), { recursive: true, force: true });
  throw new ExitError(run.fault!.internal ? ExitCode.internal : ExitCode.usage, message);
};

/** readline and the TTY streams throw these from their own callbacks once the terminal hung up. */
const terminalGone = (error: unknown): boolean => {
  const { code, syscall } = (error ?? {}) as NodeJS.ErrnoException;
  return (
    (code === 'EIO' || code === 'EPIPE' || code === 'ENXIO') && (syscall === 'setRawMode' || syscall === 'write' || syscall === 'read')
  );
};

/**
 * While the run goes, an exception nobody caught (a callback's, a promise's) faults the run rather
 * than killing the engine with its steps still running and its lock held.
 */
const catchStrayErrors = (run: RunContext) => {
  const onError = (error: unknown) => {
    if (!terminalGone(error)) faultRun(run, error);
  };
  process.on('uncaughtException', onError);
  process.on('unhandledRejection', onError);
  return () => {
    process.off('uncaughtException', onError);
    process.off('unhandledRejection', onError);
  };
};

/** Runs `plan` and returns what happened; never throws for a failing step. */
export const runPlan = async (options: RunOptions): Promise<RunResult> => {
  const run = openRun(options);
  emitRunStart(run);
  if (run.fault) refuseUnrecorded(run);
  run.announced = true;
  const release = catchStrayErrors(run);
  try {
    try {
      await runSteps(run);
    } catch (error) {
      faultRun(run, error);
    }
    const interruptedBy = recordInterrupt(run);
    await runCleanup(run);
    return finishRun(run, interruptedBy);
  } finally {
    release();
  }
};
