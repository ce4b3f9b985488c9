// `runbook status`'s drill check: which recovery runbooks are drilled on their own, and how fresh
// and successful their newest drill report is.
import { existsSync, readdirSync } from 'node:fs';
import { join, resolve as resolvePath } from 'node:path';
import { loadSource } from '../runbook/load.js';
import { listDrillReports } from './drill-files.js';

/** A recovery runbook's newest drill, for `runbook status`'s freshness warning. */
export interface DrillFreshness {
  runbook: string;
  /** The runbook file, relative to the working directory as given. */
  file: string;
  newest?: { report: string; startedAt: string; outcome: string; rtoMet?: boolean; ageDays: number };
  /** Why this needs attention; absent when a drill within the last year passed. */
  warning?: string;
}

/** Drills older than this are stale: the drill is annual (docs/design.md §1). @default 365 days */
export const DRILL_MAX_AGE_MS = 365 * 86_400_000;

/**
 * The recovery runbooks of `runbooksDir` that are drilled on their own (`kind: recovery` and not
 * included by another runbook there: an included restore is drilled through the one including it),
 * each with its newest report in `reportDir`.
 */
export const checkDrillFreshness = (runbooksDir: string, reportDir: string, now = Date.now()): DrillFreshness[] => {
  if (!existsSync(runbooksDir)) return [];
  const recovery: { name: string; file: string }[] = [];
  const included = new Set<string>();
  for (const entry of readdirSync(runbooksDir)) {
    if (!/\.ya?ml$/.test(entry)) continue;
    const file = join(runbooksDir, entry);
    // Lint reports broken runbooks; status only reads what it can.
    const doc = loadSource(file).value as { name?: unknown; kind?: unknown; include?: unknown } | undefined;
    if (!doc || typeof doc !== 'object') continue;
    for (const include of Array.isArray(doc.include) ? doc.include : []) {
      const path = typeof include === 'string' ? include : (include as { path?: unknown })?.path;
      if (typeof path === 'string') included.add(resolvePath(runbooksDir, path));
    }
    if (doc.kind === 'recovery' && typeof doc.name === 'string') recovery.push({ name: doc.name, file });
  }
  return recovery
    .filter((r) => !included.has(resolvePath(r.file)))
    .sort((a, b) => a.name.localeCompare(b.name))
    .map(({ name, file }) => {
      const stored = listDrillReports(reportDir, name).at(-1);
      if (!stored) return { runbook: name, file, warning: `never drilled: no report in ${reportDir}` };
      const ageDays = Math.floor((now - Date.parse(stored.report.startedAt)) / 86_400_000);
      const newest = {
        report: stored.path,
        startedAt: stored.report.startedAt,
        outcome: stored.report.outcome,
        rtoMet: stored.report.rto?.met,
        ageDays,
      };
      const passed = stored.report.outcome === 'success' && stored.report.rto?.met !== false;
      const warning =
        now - Date.parse(stored.report.startedAt) > DRILL_MAX_AGE_MS
          ? `last drilled ${ageDays} days ago (more than a year)`
          : !passed
            ? `the last drill did not pass (${stored.report.outcome}${stored.report.rto?.met === false ? ', RTO missed' : ''})`
            : undefined;
      return warning ? { runbook: name, file, newest, warning } : { runbook: name, file, newest };
    });
};
