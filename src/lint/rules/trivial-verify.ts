// A verification that always exits 0 is no verification: it would mark any step done.
import { listSteps, type Rule } from '../rule.js';

const alwaysSucceeds = /^(?:true|:|\/bin\/true|\/usr\/bin\/true|exit(?:\s+0)?|return(?:\s+0)?)$/;
const onlyPrints = /^(?:echo|printf)\b/;
const swallowed = /\|\|\s*(?:true|:|exit\s+0)\s*$/;

/** Commands of a shell text that matter: no blank lines, no comments. */
const commandLines = (text: string): string[] =>
  text
    .split('\n')
    .map((line) =>
      line
        .replace(/(^|\s)#.*$/, '')
        .trim()
        .replace(/;$/, '')
        .trim(),
    )
    .filter((line) => line !== '');

/** Why a verification cannot fail, or undefined when it can. */
export const whyCannotFail = (text: string, hasExpect: boolean): string | undefined => {
  const lines = commandLines(text);
  if (lines.length === 0) return 'it has no command';
  // With `expect`, printed output is matched, so echo/printf can fail the check.
  const trivial = (line: string) => alwaysSucceeds.test(line) || (!hasExpect && onlyPrints.test(line));
  if (lines.every(trivial)) return `'${lines.join('; ')}' always exits 0`;
  if (lines.length === 1 && !hasExpect && swallowed.test(lines[0]!))
    return `'${lines[0]}' ends in '${lines[0]!.match(swallowed)![0].trim()}', so it always exits 0`;
  return undefined;
};

export const trivialVerify: Rule = {
  id: 'trivial-verify',
  severity: 'error',
  description: 'A verification must be able to fail: not true, :, exit 0, echo or printf.',
  check: ({ runbook, report }) => {
    for (const { step, path } of listSteps(runbook)) {
      if (step.verify === undefined) continue;
      const text = typeof step.verify === 'string' ? step.verify : step.verify.run;
      const why = whyCannotFail(text, typeof step.verify === 'object' && step.verify.expect !== undefined);
      if (why) {
        const at = typeof step.verify === 'string' ? [...path, 'verify'] : [...path, 'verify', 'run'];
        report({ path: at, message: `verification of step '${step.id}' cannot fail: ${why}. note that it must check the step's effect` });
      }
    }
  },
};
