// Principle 8, for built-in actions: the action itself says whether its inputs destroy data.
import type { Action } from '../../actions/action.js';
import { findAction } from '../../actions/index.js';
import { listSteps, type Rule } from '../rule.js';

/** The rule over a given action lookup (tests pass their own actions). */
export const createDestructiveAction = (find: (name: string) => Action<any> | undefined): Rule => ({
  id: 'destructive-action',
  severity: 'error',
  description: 'A uses step whose action destroys data with these inputs (e.g. restore with replace: true) needs confirm.',
  check: ({ runbook, report }) => {
    for (const { step, path } of listSteps(runbook)) {
      if (step.uses === undefined || step.confirm !== undefined) continue;
      let destroys = false;
      try {
        destroys = find(step.uses)?.destructive(step.with ?? {}) === true;
      } catch {
        // Inputs still holding unresolved expressions may trip an action's check; plan decides then.
      }
      if (destroys)
        report({
          path: [...path, 'uses'],
          message: `'${step.uses}' destroys data with these inputs, but step '${step.id}' has no 'confirm'`,
        });
    }
  },
});

export const destructiveAction = createDestructiveAction(findAction);
