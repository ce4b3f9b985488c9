// A var must be declared where lint can see it — in `vars:` (null when only environments set it)
// or by every include that brings the runbook in — so a typo is caught before the run.
import { listExpressionSites, parseSite, quoteList, type Rule, type RuleContext } from '../rule.js';

/** Vars a runbook can rely on: its own, plus those every includer passes. */
export const declaredVars = ({ runbook, includers }: Pick<RuleContext, 'runbook' | 'includers'>): Set<string> => {
  const names = new Set(Object.keys(runbook.vars ?? {}));
  if (includers.length > 0) {
    const [first, ...rest] = includers.map((edge) => new Set(Object.keys(edge.vars)));
    for (const name of first!) if (rest.every((set) => set.has(name))) names.add(name);
  }
  return names;
};

export const undefinedVar: Rule = {
  id: 'undefined-var',
  severity: 'error',
  description: 'vars.NAME in an expression must be declared in vars (or by the include).',
  check: (context) => {
    const declared = declaredVars(context);
    for (const site of listExpressionSites(context.runbook)) {
      for (const { ref, index } of parseSite(site).references) {
        const name = ref.path[0]!;
        if (ref.root !== 'vars' || declared.has(name)) continue;
        const known = declared.size > 0 ? `declared: ${quoteList([...declared].sort())}` : 'no vars are declared';
        context.report({
          path: site.path,
          index,
          message: `undefined variable 'vars.${name}' (${known}). note that a var set only by environments is declared in 'vars:' with null`,
        });
      }
    }
  },
};
