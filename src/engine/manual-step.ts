// A `manual` step: a person carries out the instructions and the engine verifies. With a TTY it
// waits for Enter and verifies (again after each failed check); without one it polls until a deadline.
import { askUnlessStopped } from './confirm.js';
import type { RunContext } from './run-context.js';
import type { StepEnd } from './run-types.js';
import { endVerified, failStep, interruptStep, type RunningStep } from './step-end.js';
import { stripAborted, verifyStep, type VerifyOutcome } from './verification.js';

/** How long a manual step's verification is polled without a TTY, unless the step sets a timeout. */
const defaultManualTimeoutMs = 600_000;

export const runManualStep = async (run: RunContext, running: RunningStep): Promise<StepEnd> => {
  const { step, shell, began, signal } = running;
  const { ask } = run.options;
  const result = run.results.get(step.id)!;
  run.emit({ type: 'manual', id: step.id, instructions: step.manual ?? step.name });
  for (;;) {
    result.attempts++;
    let verify: VerifyOutcome;
    if (ask) {
      const answer = await askUnlessStopped(ask, 'Press Enter once done (or type abort): ', signal);
      if (/^\s*abort\s*$/i.test(answer)) {
        run.abortedByOperator = true;
        return failStep(run, step, 'aborted by the operator', began);
      }
      verify = await verifyStep(run, running, shell.verify);
    } else {
      const deadline = Date.now() + (step.timeoutMs ?? run.options.manualTimeoutMs ?? defaultManualTimeoutMs);
      verify = await verifyStep(run, running, shell.verify, deadline);
    }
    if (verify.aborted || signal?.aborted) return interruptStep(run, running);
    result.verifyOutput = verify.output;
    if (verify.passed) return endVerified(run, running, null, stripAborted(verify));
    run.emit({
      type: 'step-attempt',
      id: step.id,
      attempt: result.attempts,
      exitCode: null,
      signal: null,
      timedOut: false,
      durationMs: Math.round(performance.now() - began),
      verify: stripAborted(verify),
    });
    if (!ask) return failStep(run, step, `manual step not verified before its timeout: ${verify.reason}`, began);
  }
};
