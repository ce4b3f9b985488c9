// Runs a resolved plan and returns what happened: the run's start and end around the scheduler
// (scheduler.ts) and cleanup. A step is done only when its run exited 0 and its verification
// passed (run-step.ts, attempts.ts, manual-step.ts, verification.ts).
import { hostname, userInfo } from 'node:os';
import type { RunOutcome } from './events.js';
import { closeRun, openRun, type RunContext } from './run-context.js';
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
  const outcome: RunOutcome = interruptedBy ? 'interrupted' : run.abortedByOperator ? 'aborted' : failed ? 'failed' : 'success';
  const durationMs = Math.round(performance.now() - run.startedMs);
  run.emit({ type: 'run-end', outcome, durationMs, failedStep: failed?.id });
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
  };
};

/** Runs `plan` and returns what happened; never throws for a failing step. */
export const runPlan = async (options: RunOptions): Promise<RunResult> => {
  const run = openRun(options);
  emitRunStart(run);
  await runSteps(run);
  const interruptedBy = recordInterrupt(run);
  await runCleanup(run);
  return finishRun(run, interruptedBy);
};
