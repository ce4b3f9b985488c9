// Drills measure a recovery against its RTO; without one there is nothing to miss or meet.
import type { Rule } from '../rule.js';

export const missingRto: Rule = {
  id: 'missing-rto',
  severity: 'error',
  description: 'A recovery runbook declares its rto.',
  check: ({ runbook, report }) => {
    if (runbook.kind === 'recovery' && runbook.rto === undefined) {
      report({
        path: ['kind'],
        message: `recovery runbook '${runbook.name}' has no 'rto'. note that drills compare the total time against it, e.g. rto: 2h`,
      });
    }
  },
};
