// An action pastes `with` values into the shell text it prints in plans, docs and logs: a secret
// there would be written out. Actions read secrets from the environment instead.
import { listExpressionSites, parseSite, type Rule } from '../rule.js';

export const secretInWith: Rule = {
  id: 'secret-in-with',
  severity: 'error',
  description: 'No secrets.* in with: action inputs end up in printed shell text.',
  check: ({ runbook, report }) => {
    for (const site of listExpressionSites(runbook)) {
      if (site.path[2] !== 'with') continue;
      for (const { ref, index } of parseSite(site).references) {
        if (ref.root !== 'secrets') continue;
        report({
          path: site.path,
          index,
          message: `'secrets.${ref.path[0]}' in 'with' would be written into the printed shell text. note that actions take the secret's name and read it from the environment`,
        });
      }
    }
  },
};
