// `runbook status`: recent runs from the journals and the freshness of the recovery drills, as a table or JSON.
import { defaultStateDir } from '../engine/execute.js';
import { listRuns, type RunSummary } from '../engine/status.js';
import { checkDrillFreshness, type DrillFreshness } from '../report/drill-freshness.js';
import { formatDuration } from '../runbook/duration.js';

const duration = (ms?: number) => (ms === undefined || Number.isNaN(ms) ? '-' : formatDuration(ms, { style: 'compact' }));

export const formatRunTable = (runs: RunSummary[]): string => {
  const rows = [
    ['RUNBOOK', 'RUN ID', 'STARTED', 'DURATION', 'OUTCOME', 'FAILED STEP'],
    ...runs.map((r) => [r.runbook, r.runId, r.startedAt.replace(/\.\d+Z$/, 'Z'), duration(r.durationMs), r.outcome, r.failedStep ?? '']),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  return rows
    .map((row) =>
      row
        .map((cell, i) => cell.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
};

/** The drill section under the runs table: one line per recovery runbook, warnings marked. */
export const formatDrills = (drills: DrillFreshness[], reportDir: string): string => {
  const lines = [`drills (${reportDir}):`];
  for (const d of drills) {
    const last = d.newest
      ? `last drill ${d.newest.startedAt.slice(0, 10)} (${d.newest.ageDays} days ago), ${d.newest.outcome}${d.newest.rtoMet === false ? ', RTO missed' : ''}`
      : 'no drill';
    lines.push(d.warning ? `  warning: ${d.runbook}: ${d.warning}` : `  ok: ${d.runbook}: ${last}`);
    if (d.warning && d.newest) lines.push(`           ${last}`);
  }
  if (drills.some((d) => d.warning)) lines.push(`  run: runbook drill ${drills.find((d) => d.warning)!.file} --env staging`);
  return lines.join('\n');
};

export interface StatusOptions {
  stateDir?: string;
  format?: 'table' | 'json';
  /** @default runbooks/drills */
  reportDir?: string;
  /** @default runbooks */
  runbooks?: string;
}

export const statusCommand = async (options: StatusOptions): Promise<{ runs: RunSummary[]; drills: DrillFreshness[] }> => {
  const stateDir = options.stateDir ?? defaultStateDir();
  const reportDir = options.reportDir ?? 'runbooks/drills';
  const runs = listRuns(stateDir);
  const drills = checkDrillFreshness(options.runbooks ?? 'runbooks', reportDir);
  if (options.format === 'json') process.stdout.write(JSON.stringify({ runs, drills }, null, 2) + '\n');
  else {
    process.stdout.write(runs.length ? formatRunTable(runs) + '\n' : `no runs in ${stateDir}\n`);
    if (drills.length) process.stdout.write('\n' + formatDrills(drills, reportDir) + '\n');
  }
  return { runs, drills };
};
