// Runs one piece of a step's shell (its `run` or one verification poll) with the run's settings,
// streaming each output line as an event.
import type { PlannedStep } from './plan-types.js';
import type { RunContext } from './run-context.js';
import { runShell, type ShellResult } from './spawn.js';

/** What a step runs in, once its shell is resolved. */
export interface StepProcess {
  step: PlannedStep;
  env: Record<string, string>;
  signal?: AbortSignal;
}

/** Runs `text` for `target.step` in the phase given; never throws for a failing command. */
export const runPhase = (
  run: RunContext,
  target: StepProcess,
  phase: 'run' | 'verify',
  text: string,
  timeoutMs: number | undefined,
): Promise<ShellResult> =>
  runShell({
    text,
    env: target.env,
    cwd: run.options.cwd,
    timeoutMs,
    graceMs: run.options.graceMs,
    signal: target.signal,
    onLine: (stream, line) => run.emit({ type: 'step-output', id: target.step.id, phase, stream, line }),
  });
