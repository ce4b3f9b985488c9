// One step from the scheduler's call to its end: `when`, the commands it needs, confirmation, start,
// its shell resolved with the outputs so far, then the manual or the run-and-verify path.
import { closeSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { runAttempts } from './attempts.js';
import { confirmStep } from './confirm.js';
import { runManualStep } from './manual-step.js';
import { describeMissingCommands, missingCommands } from './missing-commands.js';
import type { PlannedStep, StepShell } from './plan-types.js';
import { commandsBeforeStart } from './provided-commands.js';
import type { RunContext } from './run-context.js';
import type { StepEnd } from './run-types.js';
import { failStep, skipStep, type RunningStep } from './step-end.js';
import { evaluateWhen, resolveStepShell } from './step-shell.js';

/** Whether `when` lets the step run: a StepEnd when it does not (skipped, or failed to evaluate). */
const checkWhen = (run: RunContext, step: PlannedStep): StepEnd | undefined => {
  if (step.when === undefined) return undefined;
  let go: boolean;
  try {
    go = evaluateWhen(run.plan, step, run.outputs, run.options.processEnv);
  } catch (error) {
    run.results.get(step.id)!.startedAt = new Date().toISOString();
    return failStep(run, step, `when: ${(error as Error).message}`, performance.now());
  }
  return go ? undefined : skipStep(run, step, `when is false: ${step.when}`);
};

/** A step fails before it starts when a command it needs is not on PATH, rather than halfway with "command not found". */
const checkCommands = (run: RunContext, step: PlannedStep): StepEnd | undefined => {
  const path = { ...run.baseEnv, ...step.env }.PATH;
  const missing = missingCommands(commandsBeforeStart(run.plan, step, run.providers), path);
  if (missing.length === 0) return undefined;
  run.results.get(step.id)!.startedAt = new Date().toISOString();
  return failStep(run, step, describeMissingCommands(missing), performance.now());
};

/** Runs one step to its end; never throws for a failing step. */
export const executeStep = async (run: RunContext, step: PlannedStep, signal?: AbortSignal): Promise<StepEnd> => {
  const blocked = checkWhen(run, step) ?? checkCommands(run, step);
  if (blocked) return blocked;
  if (step.confirm !== undefined && !(await confirmStep(run, step, step.confirm))) return skipStep(run, step, 'confirmation declined');

  const result = run.results.get(step.id)!;
  result.status = 'running';
  result.startedAt = new Date().toISOString();
  const began = performance.now();
  run.emit({ type: 'step-start', id: step.id, name: step.name, hash: step.hash, cleanup: step.cleanup });

  let shell: StepShell;
  try {
    shell = step.deferred ? resolveStepShell(run.plan, step, run.outputs, run.options.processEnv) : step;
  } catch (error) {
    return failStep(run, step, `cannot resolve the step: ${(error as Error).message}`, began);
  }
  const outputFile = join(run.outputsDir, `${step.id}.env`);
  // Made private before the step writes to it: a `>>` keeps the mode of the file it appends to.
  closeSync(openSync(outputFile, 'a', 0o600));
  const env = { ...run.baseEnv, ...shell.env, RUNBOOK_STEP: step.id, RUNBOOK_OUTPUT: outputFile };
  const running: RunningStep = { step, began, outputFile, shell, env, signal };
  return step.kind === 'manual' || shell.run === undefined ? runManualStep(run, running) : runAttempts(run, running);
};
