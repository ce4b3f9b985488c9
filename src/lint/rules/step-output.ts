// `steps.ID.outputs.KEY` has a value only once step ID has run: ID must be a step this one waits
// for — through `needs`, or, without `needs`, the step before it — or the value is missing (or a
// race under --concurrency).
import { listExpressionSites, listSteps, parseSite, type LocatedStep, type Rule } from '../rule.js';

/** What a step waits for: its `needs`, or else (as the engine orders steps) the step before it. */
const directNeeds = (located: LocatedStep, all: LocatedStep[]): string[] => {
  if (located.step.needs !== undefined) return located.step.needs;
  const previous = all[located.order - 1];
  return previous && previous.cleanup === located.cleanup ? [previous.step.id] : [];
};

/** Ids a step is sure to run after, transitively; cleanup also runs after every step. */
const dependenciesOf = (located: LocatedStep, all: LocatedStep[]): Set<string> => {
  const byId = new Map(all.map((s) => [s.step.id, s]));
  const seen = new Set<string>(located.cleanup ? all.filter((s) => !s.cleanup).map((s) => s.step.id) : []);
  const pending = [...directNeeds(located, all)];
  while (pending.length > 0) {
    const id = pending.pop()!;
    if (seen.has(id)) continue;
    seen.add(id);
    const next = byId.get(id);
    if (next) pending.push(...directNeeds(next, all));
  }
  return seen;
};

export const stepOutput: Rule = {
  id: 'step-output',
  severity: 'error',
  description: 'steps.ID.outputs.KEY names a step that this one waits for (its needs, or the step before it, transitively).',
  check: ({ runbook, report }) => {
    const all = listSteps(runbook);
    const ids = new Set(all.map((s) => s.step.id));
    for (const site of listExpressionSites(runbook)) {
      for (const { ref, index } of parseSite(site).references) {
        if (ref.root !== 'steps') continue;
        const id = ref.path[0]!;
        const text = `steps.${ref.path.join('.')}`;
        if (!ids.has(id)) report({ path: site.path, index, message: `'${text}' refers to an unknown step '${id}'` });
        else if (site.located && id === site.located.step.id)
          report({ path: site.path, index, message: `'${text}' refers to the step's own outputs, which exist only after it ran` });
        else if (site.located && !dependenciesOf(site.located, all).has(id)) {
          report({
            path: site.path,
            index,
            message: `'${text}' refers to step '${id}', which step '${site.located.step.id}' does not need; add '${id}' to its 'needs' so that it runs first`,
          });
        }
      }
    }
  },
};
