// Principle 8: a step with `confirm` runs only after a yes, from the operator or from --yes; with
// nobody to ask, the answer is no and the run ends aborted.
import type { PlannedStep } from './plan-types.js';
import type { RunContext } from './run-context.js';

/** The operator's answer, or none once the run stops (a signal, a fault): a prompt never holds a stopped run. */
export const askUnlessStopped = (ask: (question: string) => Promise<string>, question: string, signal?: AbortSignal): Promise<string> =>
  new Promise((resolve) => {
    if (signal?.aborted) return resolve('');
    const stop = () => resolve('');
    signal?.addEventListener('abort', stop, { once: true });
    ask(question).then(
      (answer) => {
        signal?.removeEventListener('abort', stop);
        resolve(answer);
      },
      () => resolve(''),
    );
  });

/** Asks the step's `confirm` question (recording the answer); false when declined. */
export const confirmStep = async (run: RunContext, step: PlannedStep, question: string): Promise<boolean> => {
  const { yes, ask } = run.options;
  let answer: 'yes' | 'no' | 'assumed-yes';
  if (yes) answer = 'assumed-yes';
  else if (ask) answer = /^\s*y(es)?\s*$/i.test(await askUnlessStopped(ask, `${run.mask(question)} [y/N] `, run.stepSignal)) ? 'yes' : 'no';
  else answer = 'no';
  run.emit({ type: 'confirm', id: step.id, question, answer });
  if (answer !== 'no') return true;
  run.abortedByOperator = true;
  return false;
};
