// `runbook backups DEST`: maps flags to options, calls the core, prints a table or JSON; with
// --pick, the backup a restore uses (its id on stdout, its checked manifest into a file).
import { readFile, writeFile } from 'node:fs/promises';
import { ExitCode, ExitError, usageError } from '../errors.js';
import { inspectBackups, type BackupsReport } from '../backup/inspect.js';
import { pickBackup, type PickedBackup } from '../backup/pick.js';
import { parseSigners } from '../backup/signature.js';
import type { SignaturePolicy } from '../backup/trust.js';
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
  signers?: string;
  allowUnsigned?: boolean;
  pick?: string;
  manifestTo?: string;
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

const signaturePolicyOf = async (flags: BackupsFlags): Promise<SignaturePolicy> => {
  if (flags.signers === undefined) return { allowUnsigned: flags.allowUnsigned ?? false };
  let text: string;
  try {
    text = await readFile(flags.signers, 'utf8');
  } catch (error) {
    throw usageError(`--signers: cannot read ${flags.signers}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  return { signers: parseSigners(text, `--signers ${flags.signers}`), allowUnsigned: flags.allowUnsigned ?? false };
};

/** What a restore is told about the signature of the backup it gets. */
const signatureWarning = (picked: PickedBackup): string | undefined => {
  if (picked.folder.signature === 'unsigned')
    return `WARNING: backup ${picked.id} is UNSIGNED (no manifest.json.sig): nothing proves the server wrote it; used because unsigned backups are allowed`;
  if (picked.folder.signature === 'not checked')
    return `WARNING: the signature of backup ${picked.id} was NOT CHECKED (no signers given; unsigned backups allowed)`;
  return undefined;
};

const pickCommand = async (dest: string, flags: BackupsFlags, signatures: SignaturePolicy): Promise<PickedBackup> => {
  if (flags.prune || flags.apply || flags.checkPolicy || flags.verify || flags.rpo)
    throw usageError('--pick goes alone (with --signers or --allow-unsigned, and --manifest-to)');
  const picked = await pickBackup(dest, flags.pick!, { signatures });
  for (const line of picked.skipped) process.stderr.write(`runbook: ${line}\n`);
  const warning = signatureWarning(picked);
  if (warning) process.stderr.write(`runbook: ${warning}\n`);
  if (flags.manifestTo) await writeFile(flags.manifestTo, picked.manifest, { mode: 0o600 });
  process.stdout.write(`${picked.id}\n`);
  return picked;
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
    row.signature,
    row.verification,
  ]);
  const header = ['BACKUP', 'AGE', 'SIZE', 'KIND', 'STATE', 'SIGNATURE', 'VERIFICATION'];
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
  for (const row of [header, ...rows])
    lines.push(
      row
        .map((cell, column) => cell.padEnd(widths[column]!))
        .join('  ')
        .trimEnd(),
    );
  if (!rows.length) lines.push(`(no backups under ${report.dest})`);
  for (const name of report.ignored) lines.push(`ignored ${JSON.stringify(name)}: not a backup id`);
  lines.push(report.newest ? `newest complete backup: ${report.newest}` : 'no complete backup');
  if (report.signatures === 'not checked') lines.push('signatures: not checked (give --signers FILE to check them)');
  else lines.push(`signatures: ${report.signatures}`);
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
export const backupsCommand = async (dest: string, flags: BackupsFlags): Promise<BackupsReport | PickedBackup> => {
  if (flags.apply && !flags.prune) throw usageError('--apply only goes with --prune');
  if (flags.manifestTo && flags.pick === undefined) throw usageError('--manifest-to only goes with --pick');
  // What trusts a backup (a restore, a prune, a verification) must say whose signatures count.
  const needsChoice = flags.pick !== undefined ? '--pick' : flags.verify ? '--verify' : flags.prune ? '--prune' : undefined;
  if (needsChoice && flags.signers === undefined && !flags.allowUnsigned)
    throw usageError(
      `${needsChoice} needs to know whose signatures to trust: --signers FILE (the backup signing public key lines) or --allow-unsigned (trust backups nobody signed)`,
    );
  const signatures = await signaturePolicyOf(flags);
  if (flags.pick !== undefined) return pickCommand(dest, flags, signatures);
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
    signatures,
  });
  process.stdout.write(flags.format === 'json' ? JSON.stringify(report, null, 2) + '\n' : renderText(report));
  if (report.problems.length)
    throw new ExitError(
      ExitCode.failed,
      report.problems.length === 1 ? report.problems[0]! : `${report.problems.length} problems (listed above)`,
    );
  return report;
};
