// Turns the `schedule` and `window` of backup and restore-test runbooks into crontab lines or
// systemd timers that call `runbook exec`, so the schedule lives in git with the runbooks.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { usageError } from '../errors.js';
import type { Diagnostic, Position } from '../runbook/diagnostic.js';
import { hasErrors } from '../runbook/diagnostic.js';
import { parseDuration } from '../runbook/duration.js';
import { positionOf } from '../runbook/load.js';
import { findRepositoryRoot, loadTree } from '../runbook/project.js';
import { shellQuote } from '../shell/quote.js';

/** Options of {@link collectScheduledJobs} and the renderers. */
export interface ScheduleOptions {
  /** Environment the jobs run with (`--env NAME`). @default 'production' */
  env?: string;
  /** Folder the runbook paths in the commands are relative to. @default the runbooks' git repository root */
  repositoryRoot?: string;
  /** Where the repository lives on the server the jobs run on. @default repositoryRoot */
  workdir?: string;
  /** How the jobs call runbook. @default 'runbook' */
  command?: string;
  /** Folder of the cron jobs' log files. @default '/var/log/runbook' */
  logDir?: string;
  /** A file of secrets passed as `--env-file`. @default none */
  envFile?: string;
}

/** One scheduled runbook. */
export interface ScheduledJob {
  /** The runbook's name; also the log file's and the unit's. */
  name: string;
  kind: 'backup' | 'restore-test';
  description?: string;
  /** Path of the runbook relative to the repository root. */
  file: string;
  /** Five-field cron expression in UTC, whitespace normalised. */
  schedule: string;
  window?: string;
  /** Folder the command runs in. */
  workdir: string;
  /** The command, already quoted for a shell. */
  command: string;
  /** The runbook file as given, and where its `schedule` is, for messages. */
  source: { file: string; schedule: Position };
}

export interface ScheduleCollection {
  jobs: ScheduledJob[];
  /** Invalid runbooks (errors: they are left out) and unscheduled backups (warnings). */
  diagnostics: Diagnostic[];
}

/** Runbook files among `paths`: files as given, folders' own `*.yaml`/`*.yml` (not their subfolders, where environments live). */
export const listRunbookFiles = (paths: readonly string[]): string[] =>
  paths.flatMap((path) => {
    if (!existsSync(path)) throw usageError(`${path} does not exist`);
    if (!statSync(path).isDirectory()) return [path];
    return readdirSync(path)
      .filter((name) => /\.ya?ml$/.test(name) && statSync(join(path, name)).isFile())
      .sort()
      .map((name) => join(path, name));
  });

const finding = (
  file: string,
  position: { line: number; col: number },
  message: string,
  rule: string,
  severity: 'error' | 'warning' = 'error',
): Diagnostic => ({
  file,
  ...position,
  message,
  rule,
  severity,
});

/** Loads `files` and returns the backup and restore-test runbooks that have a schedule. */
export const collectScheduledJobs = (files: readonly string[], options: ScheduleOptions = {}): ScheduleCollection => {
  const env = options.env ?? 'production';
  const jobs: ScheduledJob[] = [];
  const diagnostics: Diagnostic[] = [];
  for (const file of files) {
    const repositoryRoot = resolve(options.repositoryRoot ?? findRepositoryRoot(file));
    const tree = loadTree(file, { repositoryRoot });
    const runbook = tree.root.runbook;
    if (hasErrors(tree.diagnostics) || !runbook) {
      diagnostics.push(...tree.diagnostics.filter((d) => d.severity === 'error'));
      continue;
    }
    const kind = runbook.kind ?? 'task';
    if (kind !== 'backup' && kind !== 'restore-test') continue;
    const source = tree.root.source;
    if (runbook.schedule === undefined) {
      diagnostics.push(
        finding(
          source.file,
          positionOf(source, ['kind']),
          `${kind} runbook '${runbook.name}' has no schedule, so it is not scheduled`,
          'schedule-missing',
          'warning',
        ),
      );
      continue;
    }
    // The job would fail at 2 a.m. on a missing environment file; better to refuse now.
    const environmentFile = join(dirname(resolve(file)), 'environments', `${env}.yaml`);
    if (!existsSync(environmentFile)) {
      diagnostics.push(
        finding(
          source.file,
          positionOf(source, ['name']),
          `environment '${env}' does not exist (${relative(process.cwd(), environmentFile)})`,
          'schedule-environment',
        ),
      );
      continue;
    }
    const workdir = options.workdir ?? repositoryRoot;
    const argv = [
      options.command ?? 'runbook',
      'exec',
      relative(repositoryRoot, resolve(file)),
      '--env',
      env,
      ...(options.envFile ? ['--env-file', options.envFile] : []),
      '--yes',
    ];
    jobs.push({
      name: runbook.name,
      kind,
      description: runbook.description,
      file: relative(repositoryRoot, resolve(file)),
      schedule: runbook.schedule.trim().split(/\s+/).join(' '),
      window: runbook.window,
      workdir,
      command: argv.map(shellQuote).join(' '),
      source: { file: source.file, schedule: positionOf(source, ['schedule']) },
    });
  }
  return { jobs, diagnostics };
};

/** A window as GNU `timeout` takes it: `1h` stays, milliseconds round up to seconds. */
const timeoutArgument = (window: string): string => (window.endsWith('ms') ? `${Math.ceil(parseDuration(window)! / 1000)}s` : window);

// `%` ends a crontab command (the rest becomes stdin), so a literal one must be escaped.
const escapeCron = (text: string): string => text.replace(/%/g, '\\%');

const header = '# Generated by `runbook schedule` from the runbooks; regenerate it instead of editing.';

/** A crontab (install with `crontab FILE`) running every job at its UTC time, each within its window. */
export const renderCrontab = (jobs: readonly ScheduledJob[], options: ScheduleOptions = {}): string => {
  const logDir = options.logDir ?? '/var/log/runbook';
  const lines = [
    header,
    '# Times are UTC; `timeout WINDOW` stops a job before it runs into the next one.',
    'CRON_TZ=UTC',
    // cron's own PATH (/usr/bin:/bin) misses where npm installs runbook globally.
    'PATH=/usr/local/bin:/usr/bin:/bin',
  ];
  for (const job of jobs) {
    const timeout = job.window ? `timeout ${timeoutArgument(job.window)} ` : '';
    const log = shellQuote(`${logDir.replace(/\/$/, '')}/${job.name}.log`);
    lines.push('', `# ${job.name} (${job.kind}, ${job.file})${job.description ? `: ${job.description.trim().split('\n')[0]}` : ''}`);
    lines.push(escapeCron(`${job.schedule} cd ${shellQuote(job.workdir)} && ${timeout}${job.command} >> ${log} 2>&1`));
  }
  return lines.join('\n') + '\n';
};

const dayNames = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

const numberList = (text: string, min: number, max: number): number[] | undefined => {
  if (!/^\d+(,\d+)*$/.test(text)) return undefined;
  const values = text.split(',').map(Number);
  return values.every((v) => v >= min && v <= max) ? values : undefined;
};

const dayOfWeek = (text: string): number | undefined => {
  const named = dayNames.findIndex((name) => name.toLowerCase() === text.toLowerCase());
  if (named >= 0) return named;
  return /^[0-7]$/.test(text) ? Number(text) % 7 : undefined;
};

/** `1-5` → `Mon..Fri`, `0,3` → `Sun,Wed`; undefined when not a plain list or range of days. */
const daysOfWeek = (text: string): string | undefined => {
  const parts = text.split(',').map((part) => {
    const [from, to, extra] = part.split('-');
    if (extra !== undefined || from === undefined) return undefined;
    const a = dayOfWeek(from);
    if (a === undefined) return undefined;
    if (to === undefined) return dayNames[a];
    // `7` is Sunday at the end of a range (`5-7` = Fri..Sun).
    const b = to === '7' ? 7 : dayOfWeek(to);
    if (b === undefined || b < a) return undefined;
    return `${dayNames[a]}..${dayNames[b % 7]}`;
  });
  return parts.every((part) => part !== undefined) ? parts.join(',') : undefined;
};

const pad = (values: number[]) => values.map((v) => String(v).padStart(2, '0')).join(',');

/**
 * systemd's OnCalendar for the common cron forms `M H * * *`, `M H * * DOW` and `M H D * *` (M, H
 * and D may be lists); throws an Error naming the supported forms for anything else.
 */
export const cronToOnCalendar = (expression: string): string => {
  const fields = expression.trim().split(/\s+/);
  const [minute = '', hour = '', day = '', month = '', weekday = ''] = fields;
  const minutes = numberList(minute, 0, 59);
  const hours = numberList(hour, 0, 23);
  const days = day === '*' ? '*' : numberList(day, 1, 31);
  const weekdays = weekday === '*' ? '' : daysOfWeek(weekday);
  const convertible =
    fields.length === 5 && minutes && hours && days && month === '*' && weekdays !== undefined && (days === '*' || weekday === '*');
  if (!convertible) {
    throw new Error(
      `schedule '${expression.trim()}' has no systemd equivalent here; use one of 'M H * * *', 'M H * * DOW' or 'M H D * *', or --format cron`,
    );
  }
  const date = `*-*-${days === '*' ? '*' : pad(days)}`;
  return `${weekdays ? `${weekdays} ` : ''}${date} ${pad(hours)}:${pad(minutes)}:00 UTC`;
};

/** A unit file's name and text. */
export interface UnitFile {
  name: string;
  text: string;
}

// systemd expands `%` specifiers and `$` variables in these settings; literal ones are doubled.
const escapeSystemd = (text: string): string => text.replace(/%/g, '%%').replace(/\$/g, '$$$$');

/**
 * A `.service` (one run of the runbook, stopped at the end of its window) and a `.timer` per job;
 * a job whose schedule has no OnCalendar form is left out with an error.
 */
export const renderSystemdUnits = (jobs: readonly ScheduledJob[]): { units: UnitFile[]; diagnostics: Diagnostic[] } => {
  const diagnostics: Diagnostic[] = [];
  const units = jobs.flatMap((job) => {
    let onCalendar: string;
    try {
      onCalendar = cronToOnCalendar(job.schedule);
    } catch (error) {
      diagnostics.push(finding(job.source.file, job.source.schedule, (error as Error).message, 'schedule-systemd'));
      return [];
    }
    const unit = `runbook-${job.name}`;
    const service = [
      header,
      '[Unit]',
      `Description=runbook ${job.name} (${job.kind}, ${job.file})`,
      '',
      '[Service]',
      // `exec`, not `oneshot`: RuntimeMaxSec= has no effect on oneshot services.
      'Type=exec',
      `WorkingDirectory=${escapeSystemd(job.workdir)}`,
      `ExecStart=${escapeSystemd(job.command)}`,
      ...(job.window ? [`RuntimeMaxSec=${job.window}`] : []),
    ];
    const timer = [
      header,
      '[Unit]',
      `Description=Schedule of runbook ${job.name} (cron '${job.schedule}')`,
      '',
      '[Timer]',
      `OnCalendar=${onCalendar}`,
      // A run missed while the server was down starts at the next boot.
      'Persistent=true',
      `Unit=${unit}.service`,
      '',
      '[Install]',
      'WantedBy=timers.target',
    ];
    return [
      { name: `${unit}.service`, text: service.join('\n') + '\n' },
      { name: `${unit}.timer`, text: timer.join('\n') + '\n' },
    ];
  });
  return { units, diagnostics };
};

/** The crontab's file name when written with `-o DIR`. */
export const crontabFileName = 'runbook.crontab';
