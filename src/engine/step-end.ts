// How a step ends: its result updated and the event that records it, in one place for every path
// (skipped before it started, failed, interrupted by a signal, or done with its verification passed).
import { rmSync } from 'node:fs';
import type { VerifyResult } from './events.js';
import { readOutputs } from './outputs.js';
import type { PlannedStep, StepShell } from './plan-types.js';
import { whyNotProvided } from './provided-commands.js';
import type { RunContext } from './run-context.js';
import type { StepEnd } from './run-types.js';
import { errnoText } from './state-fault.js';

/** A step that has started: when, and where its `$RUNBOOK_OUTPUT` file is. */
export interface StartedStep {
  step: PlannedStep;
  /** performance.now() at its start. */
  began: number;
  outputFile: string;
}

/** A started step with its resolved shell and the environment and signal it runs with. */
export interface RunningStep extends StartedStep {
  shell: StepShell;
  env: Record<string, string>;
  signal?: AbortSignal;
}

const elapsed = (began: number) => Math.round(performance.now() - began);

export const skipStep = (run: RunContext, step: PlannedStep, reason: string): StepEnd => {
  const result = run.results.get(step.id)!;
  result.status = 'skipped';
  result.reason = reason;
  run.emit({ type: 'step-skipped', id: step.id, reason });
  return 'skipped';
};

export const failStep = (run: RunContext, step: PlannedStep, error: string, began: number): StepEnd => {
  const result = run.results.get(step.id)!;
  result.status = 'failed';
  result.reason = error;
  result.tolerated = step.continueOnError;
  result.durationMs = elapsed(began);
  run.emit({
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

/**
 * A signal stopped the step: the run's end records it, the step itself emits nothing. Stopped by a
 * fault of the run instead (no signal), the step failed, and says why.
 */
export const interruptStep = (run: RunContext, { step, began }: StartedStep): StepEnd => {
  if (run.fault && !run.options.signal?.aborted && !step.cleanup)
    return failStep(
      run,
      step,
      run.fault.internal ? 'stopped by an internal error of the engine' : "stopped: the run's state folder cannot be written",
      began,
    );
  const result = run.results.get(step.id)!;
  result.status = 'interrupted';
  result.durationMs = elapsed(began);
  return 'interrupted';
};

/** A step whose verification passed is done, unless a command it provides is still not on PATH. */
export const endVerified = (run: RunContext, running: RunningStep, exitCode: number | null, verify: VerifyResult): StepEnd => {
  const notProvided = whyNotProvided(running.step, running.env.PATH ?? '');
  return notProvided ? failStep(run, running.step, notProvided, running.began) : succeedStep(run, running, exitCode, verify);
};

export const succeedStep = (
  run: RunContext,
  { step, began, outputFile }: StartedStep,
  exitCode: number | null,
  verify: VerifyResult,
): StepEnd => {
  let outputs: Record<string, string>;
  try {
    outputs = readOutputs(outputFile);
    // The raw file may hold a secret a step printed; the journal keeps the masked copy.
    rmSync(outputFile, { force: true, recursive: true });
  } catch (error) {
    // The step made its $RUNBOOK_OUTPUT something else than a file (a folder, say).
    return failStep(run, step, `cannot read the step's outputs file ${outputFile}: ${errnoText(error)}`, began);
  }
  const result = run.results.get(step.id)!;
  result.status = 'done';
  result.outputs = outputs;
  result.durationMs = elapsed(began);
  run.outputs[step.id] = result.outputs;
  run.emit({
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
