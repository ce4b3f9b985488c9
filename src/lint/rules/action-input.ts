// The schema checks `with` when it is there; this also catches a `uses` step with no `with` at all,
// and inputs that take a var's default (`target: ${{ vars.db }}`) checked with that default.
import type { Diagnostic } from '../../runbook/diagnostic.js';
import { findExpressions } from '../../runbook/expression.js';
import type { NodePath } from '../../runbook/load.js';
import { listSteps, type Rule } from '../rule.js';
import { validateActionInput } from '../../runbook/validate.js';

type Substitution = { path: string[]; name: string; value: unknown };

/** Inputs that are exactly `${{ vars.NAME }}` with a non-null default in the runbook. */
const substitutions = (input: unknown, vars: Record<string, unknown>, path: string[] = []): Substitution[] => {
  if (typeof input === 'string') {
    const found = findExpressionsSafely(input);
    const only = found.length === 1 && found[0]!.start === 0 && found[0]!.end === input.length ? found[0]!.source.trim() : undefined;
    const name = only?.match(/^vars\.([A-Za-z_][A-Za-z0-9_]*)$/)?.[1];
    return name !== undefined && vars[name] !== undefined && vars[name] !== null ? [{ path, name, value: vars[name] }] : [];
  }
  if (input && typeof input === 'object' && !Array.isArray(input))
    return Object.entries(input).flatMap(([k, v]) => substitutions(v, vars, [...path, k]));
  return [];
};

const findExpressionsSafely = (text: string) => {
  try {
    return findExpressions(text);
  } catch {
    return []; // expression-syntax reports it
  }
};

const withValue = (input: Record<string, unknown>, path: string[], value: unknown): Record<string, unknown> => {
  const copy = structuredClone(input);
  let node = copy as Record<string, unknown>;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string, unknown>;
  node[path[path.length - 1]!] = value;
  return copy;
};

const key = (d: Diagnostic) => `${d.line}:${d.col}:${d.message}`;

export const actionInput: Rule = {
  id: 'action-input',
  severity: 'error',
  description: "A uses step's with matches the action's input schema (also when with is missing, and with vars' defaults filled in).",
  check: ({ runbook, source, includers, report }) => {
    for (const { step, path } of listSteps(runbook)) {
      if (step.uses === undefined) continue;
      const at: NodePath = [...path, 'with'];
      const input = (step.with ?? {}) as Record<string, unknown>;
      const plain = validateActionInput(source, step.uses, input, at, { allowExpressions: true });
      const seen = new Set(plain.map(key));
      // Without `with` the step's own schema check never ran: everything found here is new.
      if (step.with === undefined) for (const d of plain) report({ path, message: `${d.message} (action '${step.uses}')` });
      // An includer may pass other values for the vars; only a runbook's own defaults are certain.
      if (includers.length > 0) continue;
      for (const s of substitutions(step.with, (runbook.vars ?? {}) as Record<string, unknown>)) {
        for (const d of validateActionInput(source, step.uses, withValue(input, s.path, s.value), at, { allowExpressions: true })) {
          if (seen.has(key(d))) continue;
          seen.add(key(d));
          report({ path: [...at, ...s.path], message: `${d.message} (with the default of 'vars.${s.name}')` });
        }
      }
    }
  },
};
