// Steps that wait for each other never start; the cycle is named so the loop can be cut.
import { listSteps, type Rule } from '../rule.js';

export const dependencyCycle: Rule = {
  id: 'dependency-cycle',
  severity: 'error',
  description: 'needs (of steps and includes) must not form a cycle.',
  check: ({ runbook, loaded, report }) => {
    // Nodes are local steps and whole includes; `INCLUDE.STEP` counts as the include.
    const includeIds = new Set(loaded.includes.map((edge) => edge.id));
    const node = (ref: string) =>
      includeIds.has(ref.split('.')[0]!) && !listSteps(runbook).some(({ step }) => step.id === ref) ? ref.split('.')[0]! : ref;
    const edges = new Map<string, { to: string; path: readonly (string | number)[] }[]>();
    const add = (from: string, to: string, path: readonly (string | number)[]) =>
      edges.set(from, [...(edges.get(from) ?? []), { to: node(to), path }]);
    for (const { step, path } of listSteps(runbook)) (step.needs ?? []).forEach((ref, i) => add(step.id, ref, [...path, 'needs', i]));
    for (const edge of loaded.includes) {
      const entry = runbook.include?.[edge.index];
      edge.needs.forEach((ref, j) =>
        add(edge.id, ref, typeof entry === 'object' ? ['include', edge.index, 'needs', j] : ['include', edge.index]),
      );
    }
    const state = new Map<string, 'open' | 'done'>();
    const reported = new Set<string>();
    const stack: string[] = [];
    const visit = (id: string) => {
      state.set(id, 'open');
      stack.push(id);
      for (const { to, path } of edges.get(id) ?? []) {
        if (to === id) continue; // needing itself is unknown-needs' finding
        if (state.get(to) === 'open') {
          const cycle = [id, ...stack.slice(stack.indexOf(to), -1), id];
          const key = [...cycle.slice(0, -1)].sort().join(' ');
          if (!reported.has(key)) {
            reported.add(key);
            report({ path, message: `dependency cycle: ${cycle.join(' -> ')}` });
          }
        } else if (!state.has(to)) visit(to);
      }
      stack.pop();
      state.set(id, 'done');
    };
    for (const id of edges.keys()) if (!state.has(id)) visit(id);
  },
};
