// `runbook status`: recent runs summarised from their journals (drill freshness is report/drill-freshness.ts).
import { findLastRecord, journalPath, listRunIds, readJournal } from './journal.js';

export interface RunSummary {
  runbook: string;
  runId: string;
  startedAt: string;
  durationMs?: number;
  /** `unfinished`: no run end recorded (crashed, or still running). */
  outcome: 'success' | 'failed' | 'interrupted' | 'aborted' | 'unfinished';
  failedStep?: string;
  environment?: string;
  commit?: string;
  /** Files the last session read that differ from `commit` (--allow-dirty). */
  dirty?: string[];
}

/** The most recent runs in `stateDir`, newest first. */
export const listRuns = (stateDir: string, limit = 20): RunSummary[] => {
  const summaries: RunSummary[] = [];
  for (const runId of listRunIds(stateDir).reverse().slice(0, limit)) {
    let records;
    try {
      records = readJournal(journalPath(stateDir, runId)).records;
    } catch {
      continue;
    }
    const first = records[0];
    if (!first) continue;
    const lastStart = findLastRecord(records, (r) => r.type === 'run-start')!;
    const end = findLastRecord(records, (r) => r.type === 'run-end' || r.type === 'run-start');
    const failed = findLastRecord(records, (r) => r.type === 'step-failed' && !r.tolerated);
    const last = records.at(-1)!;
    summaries.push({
      runbook: String(first.runbook),
      runId,
      startedAt: first.t,
      durationMs: Date.parse((end?.type === 'run-end' ? end : last).t) - Date.parse(first.t),
      outcome: end?.type === 'run-end' ? (end.outcome as RunSummary['outcome']) : 'unfinished',
      failedStep: end?.type === 'run-end' ? (end.failedStep as string | undefined) : (failed?.id as string | undefined),
      environment: lastStart.environment as string | undefined,
      commit: lastStart.commit as string | undefined,
      dirty: lastStart.dirty as string[] | undefined,
    });
  }
  return summaries;
};
