// A `needs` entry that names no step would either be ignored or stall the run: both hide a typo.
import { listSteps, quoteList, resolvesNeed, type Rule } from '../rule.js';

export const unknownNeeds: Rule = {
  id: 'unknown-needs',
  severity: 'error',
  description: 'Every needs entry names a step, an include, or INCLUDE.STEP.',
  check: ({ runbook, loaded, report }) => {
    const known = [...new Set([...listSteps(runbook).map(({ step }) => step.id), ...loaded.includes.map((edge) => edge.id)])];
    const check = (ref: string, at: readonly (string | number)[], self?: string) => {
      if (ref === self) report({ path: at, message: `step '${self}' needs itself` });
      else if (!resolvesNeed(loaded, ref)) {
        const hint = ref.includes('.') ? `'${ref.split('.')[0]}' is no include id, or the include has no such step` : `known: ${quoteList(known)}`;
        report({ path: at, message: `needs '${ref}', but there is no such step; ${hint}` });
      }
    };
    for (const { step, path } of listSteps(runbook)) (step.needs ?? []).forEach((ref, i) => check(ref, [...path, 'needs', i], step.id));
    (runbook.include ?? []).forEach((entry, i) => {
      if (typeof entry === 'object') (entry.needs ?? []).forEach((ref, j) => check(ref, ['include', i, 'needs', j]));
    });
  },
};
