// During a recovery a hung command must fail loudly rather than stall the night; a warning, since
// a sensible limit is the author's call.
import { listSteps, type Rule } from '../rule.js';

export const missingTimeout: Rule = {
  id: 'missing-timeout',
  severity: 'warning',
  description: 'Steps of a recovery runbook (except manual ones) have a timeout.',
  check: ({ runbook, report }) => {
    if (runbook.kind !== 'recovery') return;
    for (const { step, path } of listSteps(runbook)) {
      // A manual step waits for a person; how long that takes is not the engine's to cut short.
      if (step.timeout === undefined && step.manual === undefined) {
        report({
          path: [...path, 'id'],
          message: `step '${step.id}' of recovery runbook '${runbook.name}' has no 'timeout'. note that a hung command would stall the recovery`,
        });
      }
    }
  },
};
