// A `run` step's execution: up to 1 + retries attempts, each the run (killed at its timeout) then,
// when it exited 0, the verification; outputs count only from the attempt that passed.
import { rmSync, writeFileSync } from 'node:fs';
import { runPhase } from './phase.js';
import type { RunContext } from './run-context.js';
import type { StepEnd } from './run-types.js';
import type { ShellResult } from './spawn.js';
import { endVerified, failStep, interruptStep, type RunningStep } from './step-end.js';
import { stripAborted, verifyStep, type VerifyOutcome } from './verification.js';

const describeFailure = (running: RunningStep, run: ShellResult, verify: VerifyOutcome | undefined): string =>
  run.timedOut
    ? `run timed out after ${running.step.timeoutMs} ms (process group killed)`
    : run.exitCode !== 0
      ? `run exited ${run.exitCode ?? run.signal}`
      : (verify?.reason ?? 'verification failed');

/** Runs and verifies the step until an attempt passes, the attempts run out, or a signal stops it. */
export const runAttempts = async (run: RunContext, running: RunningStep): Promise<StepEnd> => {
  const { step, shell, outputFile } = running;
  const result = run.results.get(step.id)!;
  let lastError = '';
  for (let attempt = 1; attempt <= step.retries + 1; attempt++) {
    result.attempts = attempt;
    // Emptied for the attempt (a folder a step made of it too), and private before the step writes
    // to it (`>>` keeps the mode).
    rmSync(outputFile, { force: true, recursive: true });
    writeFileSync(outputFile, '', { mode: 0o600 });
    const attemptBegan = performance.now();
    const ran = await runPhase(run, running, 'run', shell.run!, step.timeoutMs);
    result.exitCodes.push(ran.exitCode);
    if (ran.aborted) return interruptStep(run, running);
    let verify: VerifyOutcome | undefined;
    if (ran.exitCode === 0) {
      verify = await verifyStep(run, running, shell.verify);
      if (verify.aborted) return interruptStep(run, running);
      result.verifyOutput = verify.output;
    }
    // A passing attempt is recorded by step-done itself: one fsync fewer per step.
    if (verify?.passed) return endVerified(run, running, ran.exitCode, stripAborted(verify));
    run.emit({
      type: 'step-attempt',
      id: step.id,
      attempt,
      exitCode: ran.exitCode,
      signal: ran.signal,
      timedOut: ran.timedOut,
      durationMs: Math.round(performance.now() - attemptBegan),
      verify: verify && stripAborted(verify),
    });
    lastError = describeFailure(running, ran, verify);
  }
  return failStep(run, step, step.retries > 0 ? `${lastError} (after ${step.retries + 1} attempts)` : lastError, running.began);
};
