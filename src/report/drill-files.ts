// Drill reports on disk: `DIR/YYYY-MM-DD-NAME[-N].{md,json,xml}`, committed next to the runbooks.
// The JSON is the machine-readable record that comparisons and `runbook status` read back.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DRILL_FORMAT, type DrillReport } from './drill-model.js';

export const REPORT_EXTENSIONS = ['md', 'json', 'xml'] as const;

/** A report JSON found in a folder. */
export interface StoredDrillReport {
  /** File name of the JSON, relative to the folder. */
  file: string;
  path: string;
  report: DrillReport;
}

const reportName = /^(\d{4}-\d\d-\d\d)-(.+?)(?:-(\d+))?\.json$/;

/**
 * The base path (without extension) for a new report of `runbook` started at `startedAt`: the first
 * of `NAME`, `NAME-2`, `NAME-3`… for which no .md, .json or .xml exists, so a second drill the
 * same day never overwrites the first.
 */
export const nextReportBase = (dir: string, runbook: string, startedAt: string): string => {
  const day = startedAt.slice(0, 10);
  for (let n = 1; ; n++) {
    const base = join(dir, `${day}-${runbook}${n === 1 ? '' : `-${n}`}`);
    if (!REPORT_EXTENSIONS.some((ext) => existsSync(`${base}.${ext}`))) return base;
  }
};

/**
 * Every readable drill report JSON in `dir` (of `runbook` when given), oldest first. Files that are
 * not reports of this format are ignored: the folder is shared with people's notes.
 */
export const listDrillReports = (dir: string, runbook?: string): StoredDrillReport[] => {
  if (!existsSync(dir)) return [];
  const found: StoredDrillReport[] = [];
  for (const file of readdirSync(dir)) {
    if (!reportName.test(file)) continue;
    let report: DrillReport;
    try {
      report = JSON.parse(readFileSync(join(dir, file), 'utf8')) as DrillReport;
    } catch {
      continue;
    }
    if (report?.format !== DRILL_FORMAT || typeof report.runbook !== 'string' || typeof report.startedAt !== 'string') continue;
    if (runbook !== undefined && report.runbook !== runbook) continue;
    found.push({ file, path: join(dir, file), report });
  }
  return found.sort((a, b) => Date.parse(a.report.startedAt) - Date.parse(b.report.startedAt) || a.file.localeCompare(b.file));
};
