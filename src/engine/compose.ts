// Flattens a runbook and its includes into one ordered list of steps with full ids and the needs
// between them (implicit ones included), reporting unknown needs and cycles with the checks the
// lint rules own.
import type { Diagnostic } from '../runbook/diagnostic.js';
import { walkCycles } from '../lint/rules/dependency-cycle.js';
import { resolvesNeed } from '../lint/rules/unknown-needs.js';
import { positionOf, type NodePath } from '../runbook/load.js';
import type { LoadedRunbook } from '../runbook/project.js';
import type { Step } from '../runbook/schema.generated.js';

/** One step of the composition, with what it sees. */
export interface StepContext {
  loaded: LoadedRunbook;
  /** Path of the step in its file, e.g. ['steps', 3]. */
  at: NodePath;
  step: Step;
  /** `INCLUDE.` prefix of its ids, '' for the root. */
  prefix: string;
  vars: Record<string, unknown>;
}

export interface Composition {
  contexts: StepContext[];
  cleanup: StepContext[];
  /** Implicit and explicit dependencies, by full id. */
  needs: Map<string, string[]>;
  diagnostics: Diagnostic[];
}

/** An error finding at a path of a loaded runbook. */
export const diagnosticAt = (loaded: LoadedRunbook, at: NodePath, message: string, rule: string): Diagnostic => ({
  file: loaded.source.file,
  ...positionOf(loaded.source, at),
  message,
  rule,
  severity: 'error',
});

/** Needs as written (to expand once every id is known), or already full ids. */
type RawNeeds = string[] | { refs: readonly string[]; prefix: string; loaded: LoadedRunbook; at: NodePath };

interface Walk {
  contexts: StepContext[];
  cleanup: StepContext[];
  /** Full include id → the full ids of its steps. */
  groups: Map<string, string[]>;
  raw: Map<string, RawNeeds>;
}

/**
 * Includes come first, in order, then the runbook's own steps. A step without `needs` waits for
 * the step before it; an include's first step waits for the include's `needs` (when given) instead.
 */
const walkTree = (walk: Walk, loaded: LoadedRunbook, prefix: string, vars: Record<string, unknown>, entryNeeds: RawNeeds): string[] => {
  const { contexts } = walk;
  const own: string[] = [];
  let previous = entryNeeds;
  for (const edge of loaded.includes) {
    if (!edge.target?.runbook) continue;
    const childVars = { ...(edge.target.runbook.vars ?? {}), ...vars, ...edge.vars };
    const edgeNeeds: RawNeeds = edge.needs.length ? { refs: edge.needs, prefix, loaded, at: ['include', edge.index, 'needs'] } : previous;
    const ids = walkTree(walk, edge.target, `${prefix}${edge.id}.`, childVars, edgeNeeds);
    walk.groups.set(prefix + edge.id, ids);
    own.push(...ids);
    if (ids.length) previous = [ids[ids.length - 1]!];
  }
  loaded.runbook!.steps.forEach((step, index) => {
    const full = prefix + step.id;
    walk.raw.set(full, step.needs !== undefined ? { refs: step.needs, prefix, loaded, at: ['steps', index, 'needs'] } : previous);
    contexts.push({ loaded, at: ['steps', index], step, prefix, vars });
    own.push(full);
    previous = [full];
  });
  (loaded.runbook!.cleanup ?? []).forEach((step, index) => {
    walk.cleanup.push({ loaded, at: ['cleanup', index], step, prefix, vars });
    walk.raw.set(prefix + step.id, []);
  });
  return own;
};

/** Full ids of what each `needs` names; `INCLUDE` alone means every step of that include. */
const expandNeeds = (walk: Walk, diagnostics: Diagnostic[]): Map<string, string[]> => {
  const needs = new Map<string, string[]>();
  for (const [id, value] of walk.raw) {
    if (Array.isArray(value)) {
      needs.set(id, value);
      continue;
    }
    const expanded = value.refs.flatMap((ref, index) => {
      // Cleanup steps run after every step: a step cannot wait for one.
      if (resolvesNeed(value.loaded, ref, { cleanup: false })) return walk.groups.get(value.prefix + ref) ?? [value.prefix + ref];
      const message = `needs '${ref}', which is neither a step nor an include`;
      diagnostics.push(diagnosticAt(value.loaded, [...value.at, index], message, 'unknown-needs'));
      return [];
    });
    needs.set(id, expanded);
  }
  return needs;
};

/** Flattens the include tree into one ordered list. */
export const compose = (root: LoadedRunbook, rootVars: Record<string, unknown>): Composition => {
  const walk: Walk = { contexts: [], cleanup: [], groups: new Map(), raw: new Map() };
  walkTree(walk, root, '', rootVars, []);
  const diagnostics: Diagnostic[] = [];
  const needs = expandNeeds(walk, diagnostics);
  return { contexts: orderByNeeds(walk.contexts, needs, diagnostics), cleanup: walk.cleanup, needs, diagnostics };
};

/** File order, except that a step never comes before what it needs; a cycle is reported. */
const orderByNeeds = (contexts: StepContext[], needs: Map<string, string[]>, diagnostics: Diagnostic[]): StepContext[] => {
  const ordered: StepContext[] = [];
  const done = new Set<string>();
  const pending = [...contexts];
  while (pending.length) {
    const index = pending.findIndex((c) => (needs.get(c.prefix + c.step.id) ?? []).every((n) => done.has(n)));
    if (index < 0) {
      const first = pending[0]!;
      const cycle = findCycle(first.prefix + first.step.id, needs);
      diagnostics.push(diagnosticAt(first.loaded, first.at, `dependency cycle: ${cycle.join(' -> ')}`, 'needs-cycle'));
      return [...ordered, ...pending];
    }
    const [next] = pending.splice(index, 1);
    ordered.push(next!);
    done.add(next!.prefix + next!.step.id);
  }
  return ordered;
};

/** The first cycle met walking the needs from `start`, closed (`a -> b -> a`). */
const findCycle = (start: string, needs: Map<string, string[]>): string[] => {
  let found: string[] | undefined;
  walkCycles(
    [start],
    (id) => (needs.get(id) ?? []).map((to) => ({ to })),
    ({ nodes }) => {
      found = [...nodes, nodes[0]!];
      return true;
    },
  );
  return found ?? [start];
};
