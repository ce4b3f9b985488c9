// Two steps with one id make `needs`, `--only`, `--from` and the journal ambiguous.
import { positionOf } from '../../runbook/load.js';
import { listSteps, type Rule } from '../rule.js';

export const duplicateStepId: Rule = {
  id: 'duplicate-step-id',
  severity: 'error',
  description: 'Step ids are unique across steps and cleanup.',
  check: ({ runbook, source, report }) => {
    const first = new Map<string, readonly (string | number)[]>();
    for (const { step, path } of listSteps(runbook)) {
      const at = [...path, 'id'];
      const earlier = first.get(step.id);
      if (!earlier) {
        first.set(step.id, at);
        continue;
      }
      const { line, col } = positionOf(source, earlier);
      report({
        path: at,
        message: `step id '${step.id}' is already used; previously defined at line:${line},col:${col}. note that steps and cleanup share one namespace`,
      });
    }
  },
};
