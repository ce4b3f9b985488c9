// `runbook backups DEST`: maps flags to options, calls the core, prints a table or JSON.
import { ExitCode, ExitError, usageError } from '../errors.js';
import { inspectBackups, type BackupsReport } from '../backup/inspect.js';
import { defaultPolicy, type RetentionPolicy } from '../backup/policy.js';
import { parseDuration } from '../runbook/duration.js';

/** Flags of `runbook backups`, as commander parses them. */
export interface BackupsFlags {
  rpo?: string;
  keepDaily?: string;
  keepWeekly?: string;
  keepMonthly?: string;
  prune?: boolean;
  apply?: boolean;
  checkPolicy?: boolean;
  verify?: boolean;
  format?: 'text' | 'json';
}

const parseCount = (flag: string, value: string | undefined, minimum: number): number | undefined => {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) < minimum) throw usageError(`--${flag} expects a whole number ≥ ${minimum}, got '${value}'`);
  return Number(value);
};

const policyOf = (flags: BackupsFlags): RetentionPolicy | undefined => {
  const daily = parseCount('keep-daily', flags.keepDaily, 1);
  const weekly = parseCount('keep-weekly', flags.keepWeekly, 0);
  const monthly = parseCount('keep-monthly', flags.keepMonthly, 0);
  if (daily === undefined && weekly === undefined && monthly === undefined) return undefined;
  return { daily: daily ?? defaultPolicy.daily, weekly: weekly ?? defaultPolicy.weekly, monthly: monthly ?? defaultPolicy.monthly };
};

const formatBytes = (bytes: number | undefined): string => {
  if (bytes === undefined) return '-';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) [value, unit] = [value / 1024, unit + 1];
  return unit ? `${value.toFixed(1)} ${units[unit]}` : `${value} B`;
};

const renderText = (report: BackupsReport): string => {
  const lines: string[] = [];
  const rows = report.backups.map((row) => [
    row.id,
    row.future ? `${row.age} FUTURE` : row.age,
    formatBytes(row.bytes),
    row.kind ?? '-',
    row.marked ? `${row.state}, pruning` : row.state,
    row.verification,
  ]);
  const header = ['BACKUP', 'AGE', 'SIZE', 'KIND', 'STATE', 'VERIFICATION'];
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
  for (const row of [header, ...rows])
    lines.push(
      row
        .map((cell, column) => cell.padEnd(widths[column]!))
        .join('  ')
        .trimEnd(),
    );
  if (!rows.length) lines.push(`(no backups under ${report.dest})`);
  lines.push(report.newest ? `newest complete backup: ${report.newest}` : 'no complete backup');
  for (const decision of report.decisions ?? []) lines.push(`${decision.action} ${decision.id}: ${decision.reason}`);
  if (report.decisions) {
    const deletions = report.decisions.filter((decision) => decision.action === 'delete').length;
    if (report.applied) lines.push(`deleted ${report.deleted.length} backup folder(s)`);
    else if (deletions) lines.push(`dry run: ${deletions} folder(s) would be deleted (add --apply)`);
  }
  for (const problem of report.problems) lines.push(`problem: ${problem}`);
  return lines.join('\n') + '\n';
};

/** `runbook backups DEST`: exits 1 (after printing) when the report holds problems. */
export const backupsCommand = async (dest: string, flags: BackupsFlags): Promise<BackupsReport> => {
  if (flags.apply && !flags.prune) throw usageError('--apply only goes with --prune');
  let rpoMs: number | undefined;
  try {
    rpoMs = parseDuration(flags.rpo);
  } catch (error) {
    throw usageError(`--rpo: ${(error as Error).message}`);
  }
  const policy = policyOf(flags);
  if ((flags.prune || flags.checkPolicy) && !policy)
    throw usageError('--prune and --check-policy need the policy: --keep-daily, --keep-weekly, --keep-monthly');
  const report = await inspectBackups(dest, {
    rpoMs,
    policy,
    prune: flags.prune,
    apply: flags.apply,
    checkPolicy: flags.checkPolicy,
    verify: flags.verify,
  });
  process.stdout.write(flags.format === 'json' ? JSON.stringify(report, null, 2) + '\n' : renderText(report));
  if (report.problems.length)
    throw new ExitError(
      ExitCode.failed,
      report.problems.length === 1 ? report.problems[0]! : `${report.problems.length} problems (listed above)`,
    );
  return report;
};
