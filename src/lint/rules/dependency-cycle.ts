// Steps that wait for each other never start; the cycle is named so the loop can be cut.
import { listSteps, type Rule } from '../rule.js';

/** A cycle met while walking: its nodes from the one met again to the one whose edge closed it. */
export interface FoundCycle<E> {
  nodes: string[];
  edge: E;
}

/**
 * Walks `needs` depth-first from each start in turn (each node once) and reports every edge back
 * into the current path as a cycle; `onCycle` returning true stops the walk. Lint reports them all,
 * resolve names the first one that blocks the order.
 */
export const walkCycles = <E extends { to: string }>(
  starts: Iterable<string>,
  edgesOf: (id: string) => readonly E[],
  onCycle: (cycle: FoundCycle<E>) => boolean | void,
): void => {
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (id: string): boolean => {
    state.set(id, 'open');
    stack.push(id);
    for (const edge of edgesOf(id)) {
      if (state.get(edge.to) === 'open') {
        if (onCycle({ nodes: stack.slice(stack.indexOf(edge.to)), edge })) return true;
      } else if (!state.has(edge.to) && visit(edge.to)) return true;
    }
    stack.pop();
    state.set(id, 'done');
    return false;
  };
  for (const id of starts) if (!state.has(id) && visit(id)) return;
};

type Edge = { to: string; path: readonly (string | number)[] };

export const dependencyCycle: Rule = {
  id: 'dependency-cycle',
  severity: 'error',
  description: 'needs (of steps and includes) must not form a cycle.',
  check: ({ runbook, loaded, report }) => {
    // Nodes are local steps and whole includes; `INCLUDE.STEP` counts as the include.
    const includeIds = new Set(loaded.includes.map((edge) => edge.id));
    const node = (ref: string) =>
      includeIds.has(ref.split('.')[0]!) && !listSteps(runbook).some(({ step }) => step.id === ref) ? ref.split('.')[0]! : ref;
    const edges = new Map<string, Edge[]>();
    const add = (from: string, to: string, path: readonly (string | number)[]) =>
      edges.set(from, [...(edges.get(from) ?? []), { to: node(to), path }]);
    for (const { step, path } of listSteps(runbook)) (step.needs ?? []).forEach((ref, i) => add(step.id, ref, [...path, 'needs', i]));
    for (const edge of loaded.includes) {
      const entry = runbook.include?.[edge.index];
      edge.needs.forEach((ref, j) =>
        add(edge.id, ref, typeof entry === 'object' ? ['include', edge.index, 'needs', j] : ['include', edge.index]),
      );
    }
    const reported = new Set<string>();
    walkCycles<Edge>(
      edges.keys(),
      (id) => (edges.get(id) ?? []).filter(({ to }) => to !== id),
      ({ nodes, edge }) => {
        // Named from the step whose need closes the loop; needing itself is unknown-needs' finding.
        const closing = nodes[nodes.length - 1]!;
        const key = [...nodes].sort().join(' ');
        if (reported.has(key)) return;
        reported.add(key);
        report({ path: edge.path, message: `dependency cycle: ${[closing, ...nodes.slice(0, -1), closing].join(' -> ')}` });
      },
    );
  },
};
