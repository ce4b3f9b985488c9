// What changed since the previous drill of the same runbook: the early warning that a recovery is
// drifting (a restore twice as slow as last year, a step that now needs retries).
import type { DrillComparison, DrillReport } from './drill-model.js';

/** A step counts as slower when it took more than this factor of its previous time… */
export const SLOWER_FACTOR = 1.2;
/** …and at least this much longer in absolute terms, so sub-second jitter does not show. @default 1000 */
export const SLOWER_MIN_MS = 1000;

/** Compares `current` with `previous` (the report JSON named `previousFile`). */
export const compareDrills = (current: DrillReport, previous: DrillReport, previousFile: string): DrillComparison => {
  const before = new Map(previous.steps.map((s) => [s.id, s]));
  const comparison: DrillComparison = {
    previous: previousFile,
    previousStartedAt: previous.startedAt,
    slower: [],
    newFailures: [],
    newRetries: [],
  };
  for (const step of current.steps) {
    const old = before.get(step.id);
    if (step.status === 'failed' && old?.status !== 'failed') comparison.newFailures.push(step.id);
    if (!old) continue;
    if (step.attempts > 1 && old.attempts <= 1) comparison.newRetries.push({ id: step.id, before: old.attempts, after: step.attempts });
    if (step.status === 'done' && old.status === 'done' && step.durationMs !== undefined && old.durationMs !== undefined) {
      if (step.durationMs > old.durationMs * SLOWER_FACTOR && step.durationMs - old.durationMs >= SLOWER_MIN_MS) {
        comparison.slower.push({
          id: step.id,
          beforeMs: old.durationMs,
          afterMs: step.durationMs,
          ratio: Math.round((step.durationMs / Math.max(1, old.durationMs)) * 100) / 100,
        });
      }
    }
  }
  return comparison;
};
