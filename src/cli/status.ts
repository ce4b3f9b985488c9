// `runbook status`: recent runs from the journals, as a table or JSON.
import { defaultStateDir } from '../engine/execute.js';
import { listRuns, type RunSummary } from '../engine/status.js';

const duration = (ms?: number) => {
  if (ms === undefined || Number.isNaN(ms)) return '-';
  const s = Math.round(ms / 1000);
  return s < 60 ? `${s}s` : s < 3600 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
};

export const formatRunTable = (runs: RunSummary[]): string => {
  const rows = [['RUNBOOK', 'RUN ID', 'STARTED', 'DURATION', 'OUTCOME', 'FAILED STEP'], ...runs.map((r) => [r.runbook, r.runId, r.startedAt.replace(/\.\d+Z$/, 'Z'), duration(r.durationMs), r.outcome, r.failedStep ?? ''])];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  return rows.map((row) => row.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
};

export const statusCommand = async (options: { stateDir?: string; format?: 'table' | 'json' }): Promise<RunSummary[]> => {
  const stateDir = options.stateDir ?? defaultStateDir();
  const runs = listRuns(stateDir);
  if (options.format === 'json') process.stdout.write(JSON.stringify(runs, null, 2) + '\n');
  else process.stdout.write(runs.length ? formatRunTable(runs) + '\n' : `no runs in ${stateDir}\n`);
  return runs;
};
