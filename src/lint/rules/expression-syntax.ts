// An expression that does not parse fails at run time, possibly hours into a recovery.
import { listExpressionSites, parseSite, type Rule } from '../rule.js';

export const expressionSyntax: Rule = {
  id: 'expression-syntax',
  severity: 'error',
  description: '${{ }} expressions in with, env, when and notify must parse.',
  check: ({ runbook, report }) => {
    for (const site of listExpressionSites(runbook)) {
      for (const error of parseSite(site).errors)
        report({ path: site.path, index: error.index, message: `invalid expression: ${error.message}` });
    }
  },
};
