// Principle 1: a step is done only when its verification passed, so a `run` or `manual` step must
// say how it is verified (built-in actions carry their own).
import { listSteps, type Rule } from '../rule.js';
import type { Step } from '../../runbook/schema.generated.js';
import { describePath } from '../../runbook/validate.js';

/** What a step does that nothing verifies: `run` or `manual` without `verify`; undefined when verified. */
export const unverifiedKind = (step: Step): 'run' | 'manual' | undefined => {
  if (step.verify !== undefined) return undefined;
  return step.run !== undefined ? 'run' : step.manual !== undefined ? 'manual' : undefined;
};

export const missingVerify: Rule = {
  id: 'missing-verify',
  severity: 'error',
  description: 'A run or manual step must have a verify that proves it worked.',
  check: ({ runbook, report }) => {
    for (const { step, path } of listSteps(runbook)) {
      const kind = unverifiedKind(step);
      if (kind) {
        report({
          path,
          message: `${describePath(path)}.verify is required: step '${step.id}' has '${kind}' and nothing checks that it worked`,
        });
      }
    }
  },
};
