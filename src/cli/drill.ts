// `runbook drill`: exec's flags, renderers and signals, wrapped so the run writes a drill report;
// then the report's summary and where it is. Exit 1 also when the run succeeded but missed its RTO.
import { relative } from 'node:path';
import { ExitCode, ExitError } from '../errors.js';
import type { DryRun } from '../engine/execute.js';
import { runDrill, type DrillResult } from '../report/drill.js';
import { summarizeDrill } from '../report/drill-markdown.js';
import { execCommand, type ExecFlags } from './exec.js';

export interface DrillFlags extends ExecFlags {
  /** @default `drills/` beside the runbook */
  reportDir?: string;
}

const printReport = (drill: DrillResult, json: boolean) => {
  const files = Object.values(drill.files).map((path) => relative(process.cwd(), path) || path);
  if (json) {
    process.stdout.write(
      JSON.stringify({
        type: 'drill-report',
        files,
        outcome: drill.report.outcome,
        durationMs: drill.report.durationMs,
        rto: drill.report.rto,
        rpo: drill.report.rpo,
      }) + '\n',
    );
    return;
  }
  process.stdout.write(['', ...summarizeDrill(drill.report), `report: ${files.join(', ')}`, ''].join('\n'));
};

export const drillCommand = async (file: string, flags: DrillFlags): Promise<DrillResult | DryRun> => {
  let drill: DrillResult | undefined;
  let outcome: Error | undefined;
  let dry: DryRun | undefined;
  try {
    const result = await execCommand(file, flags, async (options) => {
      const done = await runDrill({ ...options, reportDir: flags.reportDir });
      if ('dryRun' in done) return done;
      drill = done;
      return done.result;
    });
    if ('dryRun' in result) dry = result;
  } catch (error) {
    outcome = error as Error;
  }
  // A failed drill has a report too: print where it is before the exit code goes out.
  if (drill) printReport(drill, flags.output === 'json');
  if (outcome) throw outcome;
  if (dry) return dry;
  if (drill!.report.rto && !drill!.report.rto.met) {
    throw new ExitError(
      ExitCode.failed,
      `the drill missed its RTO: ${Math.round(drill!.report.durationMs / 1000)} s against ${drill!.report.rto.target}`,
    );
  }
  return drill!;
};
