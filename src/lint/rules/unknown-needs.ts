// A `needs` entry that names no step would either be ignored or stall the run: both hide a typo.
import { basename } from 'node:path';
import type { LoadedRunbook } from '../../runbook/project.js';
import { listSteps, quoteList, type Rule } from '../rule.js';

export interface ResolvesNeedOptions {
  /** Whether a cleanup step's id counts (resolve says no: cleanup runs after every step). @default true */
  cleanup?: boolean;
}

/**
 * Whether `ref` names a step of `loaded`: a local step id, an include's id (all of its steps) or
 * `INCLUDE.STEP` (recursively for nested includes).
 */
export const resolvesNeed = (loaded: LoadedRunbook, ref: string, options: ResolvesNeedOptions = {}): boolean => {
  const local = loaded.runbook ? listSteps(loaded.runbook).filter((located) => options.cleanup !== false || !located.cleanup) : [];
  if (local.some(({ step }) => step.id === ref)) return true;
  for (const edge of loaded.includes) {
    if (ref === edge.id) return true;
    // An include that could not be loaded is reported by the loader; do not pile on.
    if (ref.startsWith(`${edge.id}.`)) return !edge.target?.runbook || resolvesNeed(edge.target, ref.slice(edge.id.length + 1), options);
  }
  return false;
};

export const unknownNeeds: Rule = {
  id: 'unknown-needs',
  severity: 'error',
  description: 'Every needs entry names a step, an include, or INCLUDE.STEP.',
  check: ({ runbook, loaded, report }) => {
    const known = [...new Set([...listSteps(runbook).map(({ step }) => step.id), ...loaded.includes.map((edge) => edge.id)])];
    const unloaded = new Set(
      (runbook.include ?? [])
        .filter((_entry, index) => !loaded.includes.some((edge) => edge.index === index))
        .map(
          (entry) =>
            (typeof entry === 'object' && entry.id) || basename(typeof entry === 'string' ? entry : entry.path).replace(/\.ya?ml$/, ''),
        ),
    );
    const check = (ref: string, at: readonly (string | number)[], self?: string, fromCleanup = false) => {
      // An include that failed to load has no edge; the loader said so already.
      if (unloaded.has(ref.split('.')[0]!)) return;
      if (ref === self) report({ path: at, message: `step '${self}' needs itself` });
      else if (!fromCleanup && !resolvesNeed(loaded, ref, { cleanup: false }) && resolvesNeed(loaded, ref)) {
        // exec would refuse it at resolve time: what lint passes must run.
        report({
          path: at,
          message: `needs '${ref}', a cleanup step; cleanup steps run after every other step, so no step can wait for one`,
        });
      } else if (!resolvesNeed(loaded, ref)) {
        const prefix = ref.split('.')[0]!;
        const includeIds = loaded.includes.map((edge) => edge.id);
        const hint = !ref.includes('.')
          ? `known: ${quoteList(known)}`
          : includeIds.includes(prefix)
            ? `include '${prefix}' has no step '${ref.slice(prefix.length + 1)}'`
            : `'${prefix}' is no include id (${includeIds.length > 0 ? `includes: ${quoteList(includeIds)}` : 'there are no includes'})`;
        report({ path: at, message: `needs '${ref}', but there is no such step; ${hint}` });
      }
    };
    for (const { step, path, cleanup } of listSteps(runbook)) {
      (step.needs ?? []).forEach((ref, i) => check(ref, [...path, 'needs', i], step.id, cleanup));
    }
    (runbook.include ?? []).forEach((entry, i) => {
      if (typeof entry === 'object') (entry.needs ?? []).forEach((ref, j) => check(ref, ['include', i, 'needs', j]));
    });
  },
};
