// A `verify.expect` that is no regular expression passed lint and then stopped the run with a crash
// at the first verification that reached it, after earlier steps had already changed things.
import { listSteps, type Rule } from '../rule.js';

/** Why `pattern` is no regular expression the engine can match (JavaScript syntax, per line), or undefined. */
export const whyInvalidPattern = (pattern: string): string | undefined => {
  try {
    new RegExp(pattern, 'm');
    return undefined;
  } catch (error) {
    return (error as Error).message.replace(/^Invalid regular expression: \/.*\/m?: /s, '').toLowerCase();
  }
};

export const invalidExpect: Rule = {
  id: 'invalid-expect',
  severity: 'error',
  description: 'verify.expect is a valid regular expression (JavaScript syntax, matched against each line of the output).',
  check: ({ runbook, report }) => {
    for (const { step, path } of listSteps(runbook)) {
      if (typeof step.verify !== 'object' || step.verify.expect === undefined) continue;
      const why = whyInvalidPattern(step.verify.expect);
      if (why)
        report({ path: [...path, 'verify', 'expect'], message: `verify.expect of step '${step.id}' is no regular expression: ${why}` });
    }
  },
};
