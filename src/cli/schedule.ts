// `runbook schedule`: crontab lines or systemd units for the scheduled runbooks, printed or written.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ExitCode, ExitError } from '../errors.js';
import { byPosition, formatDiagnostic, hasErrors } from '../runbook/diagnostic.js';
import {
  collectScheduledJobs,
  crontabFileName,
  listRunbookFiles,
  renderCrontab,
  renderSystemdUnits,
  type ScheduleOptions,
} from '../report/schedule.js';

export interface ScheduleCommandOptions extends ScheduleOptions {
  format: 'cron' | 'systemd';
  /** Folder to write the files into; printed to stdout when absent. */
  output?: string;
}

export const scheduleCommand = (paths: string[], options: ScheduleCommandOptions) => {
  const { jobs, diagnostics } = collectScheduledJobs(listRunbookFiles(paths), options);
  const files =
    options.format === 'systemd'
      ? (() => {
          const rendered = renderSystemdUnits(jobs);
          diagnostics.push(...rendered.diagnostics);
          return rendered.units;
        })()
      : [{ name: crontabFileName, text: renderCrontab(jobs, options) }];
  for (const diagnostic of diagnostics.sort(byPosition)) process.stderr.write(formatDiagnostic(diagnostic) + '\n');
  if (jobs.length === 0) process.stderr.write('runbook: no backup or restore-test runbook with a schedule found\n');
  if (options.output) {
    mkdirSync(options.output, { recursive: true });
    for (const file of files) {
      writeFileSync(join(options.output, file.name), file.text);
      process.stdout.write(`wrote ${join(options.output, file.name)}\n`);
    }
  } else {
    process.stdout.write(files.map((file) => (options.format === 'systemd' ? `# ${file.name}\n${file.text}` : file.text)).join('\n'));
  }
  // The valid runbooks are scheduled all the same; the exit code says some were left out.
  if (hasErrors(diagnostics)) throw new ExitError(ExitCode.usage, 'some runbooks were left out of the schedule (see above)');
};
