// `drill` as a function: exec against a non-protected environment, then the report from the run's
// journal, compared with the previous drill of the same runbook, written as Markdown, JSON and
// JUnit XML. Returns data; the CLI prints.
import { rmSync, writeFileSync } from 'node:fs';
import { ExitCode, ExitError } from '../errors.js';
import { errnoOf, errnoText } from '../engine/state-fault.js';
import { dirname, join } from 'node:path';
import { executeRunbook, type DryRun, type ExecOptions } from '../engine/execute.js';
import { readJournal } from '../engine/journal.js';
import { createMasker, maskRecord } from '../engine/mask.js';
import { makePrivateDir, privateFile } from '../engine/state-dir.js';
import type { Plan } from '../engine/plan-types.js';
import type { RunResult } from '../engine/run.js';
import { compareDrills } from './drill-compare.js';
import { listDrillReports, nextReportBase } from './drill-files.js';
import { renderDrillJunit } from './drill-junit.js';
import { renderDrillMarkdown } from './drill-markdown.js';
import { buildDrillReport, type DrillReport } from './drill-model.js';

export interface DrillOptions extends Omit<ExecOptions, 'refuseProtected'> {
  /** Where reports are written and the previous one is looked for. @default `drills/` beside the runbook (runbooks/drills/) */
  reportDir?: string;
}

export interface DrillResult {
  result: RunResult;
  report: DrillReport;
  /** Paths of the report written. */
  files: { markdown: string; json: string; junit: string };
}

/** The default report folder: `drills/` beside the runbook, so reports are committed with it. */
export const defaultReportDir = (file: string): string => join(dirname(file), 'drills');

/** Builds the report of a finished run and writes its three files; exported for tests. */
export const writeDrillReport = (
  plan: Plan,
  result: Pick<RunResult, 'journal' | 'log'>,
  reportDir: string,
  mask: (text: string) => string = (t) => t,
): DrillResult['files'] & { report: DrillReport } => {
  const { records } = readJournal(result.journal);
  let report = buildDrillReport({ plan, records, journal: result.journal, log: result.log });
  const previous = listDrillReports(reportDir, plan.name)
    .filter((r) => r.report.runId !== report.runId)
    .at(-1);
  if (previous) report.comparison = compareDrills(report, previous.report, previous.file);
  // The journal is masked already; the verification commands come from the plan, so mask once more
  // (the text, before it is serialised: JSON would escape a shell-quoted secret past the masker).
  report = maskRecord(report, mask);
  let files: DrillResult['files'] | undefined;
  try {
    // Private like the state folder: the reports quote verification output.
    makePrivateDir(reportDir);
    const base = nextReportBase(reportDir, plan.name, report.startedAt);
    files = { markdown: `${base}.md`, json: `${base}.json`, junit: `${base}.xml` };
    // JSON first with `wx`: two drills finishing at once can never write the same name.
    writeFileSync(files.json, JSON.stringify(report, null, 2) + '\n', { flag: 'wx', mode: privateFile });
    writeFileSync(files.markdown, renderDrillMarkdown(report), { mode: privateFile });
    writeFileSync(files.junit, renderDrillJunit(report), { mode: privateFile });
  } catch (error) {
    if (errnoOf(error) === undefined || errnoOf(error) === 'EEXIST') throw error;
    // A half-written report would be the "previous drill" the next one compares against.
    for (const file of Object.values(files ?? {})) rmSync(file, { force: true });
    throw new ExitError(
      ExitCode.failed,
      `cannot write the drill report in ${reportDir}: ${errnoText(error)} (the run ended ${report.outcome}; its journal: ${result.journal})`,
    );
  }
  return { ...files, report };
};

/** Runs the drill; a dry run returns the exec dry run and writes nothing. */
export const runDrill = async (options: DrillOptions): Promise<DrillResult | DryRun> => {
  let plan: Plan | undefined;
  let env: Record<string, string | undefined> = {};
  const result = await executeRunbook({
    ...options,
    refuseProtected: true,
    resolvePlan: (file, resolveOptions) => {
      env = resolveOptions.processEnv;
      plan = options.resolvePlan(file, resolveOptions);
      return plan;
    },
  });
  if ('dryRun' in result) return result;
  const mask = createMasker(plan!.secrets.map((name) => env[name]).filter((value): value is string => Boolean(value)));
  const { report, ...files } = writeDrillReport(plan!, result, options.reportDir ?? defaultReportDir(options.file), mask);
  return { result, report, files };
};
