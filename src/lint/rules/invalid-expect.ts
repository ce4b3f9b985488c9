// A `verify.expect` that is no regular expression passed lint and then stopped the run with a crash
// at the first verification that reached it, after earlier steps had already changed things. The
// check is the engine's own (runbook/expect-pattern.ts): what passes here, the engine can match.
import { whyUnusableExpect } from '../../runbook/expect-pattern.js';
import { listSteps, type Rule } from '../rule.js';

export { whyInvalidPattern } from '../../runbook/expect-pattern.js';

export const invalidExpect: Rule = {
  id: 'invalid-expect',
  severity: 'error',
  description: 'verify.expect is a valid regular expression (JavaScript syntax, matched against each line of the output).',
  check: ({ runbook, report }) => {
    for (const { step, path } of listSteps(runbook)) {
      if (typeof step.verify !== 'object' || step.verify.expect === undefined) continue;
      const why = whyUnusableExpect(step.verify.expect);
      if (why) report({ path: [...path, 'verify', 'expect'], message: `verify.expect of step '${step.id}' ${why}` });
    }
  },
};
