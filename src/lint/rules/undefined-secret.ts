// Only declared secrets are masked; a secret used but not declared would be printed in the clear.
import { listExpressionSites, parseSite, quoteList, type Rule } from '../rule.js';

export const undefinedSecret: Rule = {
  id: 'undefined-secret',
  severity: 'error',
  description: 'secrets.NAME in an expression must be listed in secrets.',
  check: ({ runbook, report }) => {
    const declared = new Set(runbook.secrets ?? []);
    for (const site of listExpressionSites(runbook)) {
      for (const { ref, index } of parseSite(site).references) {
        const name = ref.path[0]!;
        if (ref.root !== 'secrets' || declared.has(name)) continue;
        const known = declared.size > 0 ? `declared: ${quoteList([...declared].sort())}` : 'no secrets are declared';
        report({
          path: site.path,
          index,
          message: `undefined secret 'secrets.${name}' (${known}). note that secrets are listed in 'secrets:' so that their values are masked`,
        });
      }
    }
  },
};
