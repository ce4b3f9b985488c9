// `runbook backups DEST` as data: the backups under a destination, how fresh they are, what the
// retention policy keeps and misses, and — when asked — what a prune deletes. The CLI prints it.
import { listBackups } from './list.js';
import { manifestBytes } from './manifest.js';
import { formatAge, planRetention, trustedBackups, type Decision } from './plan.js';
import { findGaps, type RetentionPolicy } from './policy.js';
import { applyRetention, pendingDeletions } from './prune.js';
import type { RcloneOptions } from './rclone.js';
import { verifyBackupData } from './verify.js';

/** Options of {@link inspectBackups}. */
export interface InspectOptions extends RcloneOptions {
  /** Fail when the newest complete backup is older than this (milliseconds). @default no limit */
  rpoMs?: number;
  /** The retention policy; without it there is no gap check, no plan and no prune. @default none */
  policy?: RetentionPolicy;
  /** Plan a prune (and carry it out when `apply`). @default false */
  prune?: boolean;
  /** Delete what the plan deletes; without it a prune is a dry run. @default false */
  apply?: boolean;
  /** Fail when anything would be deleted: what remains is not exactly the policy's set. @default false */
  checkPolicy?: boolean;
  /** Re-hash every complete backup's stored data against its manifest. @default false */
  verify?: boolean;
  /** The current time. @default new Date() */
  now?: Date;
}

/** One backup folder as listed. */
export interface BackupRow {
  id: string;
  /** `complete`, `incomplete` or `damaged`; `pruning` when an earlier prune marked it. */
  state: 'complete' | 'incomplete' | 'damaged';
  marked: boolean;
  kind?: string;
  /** Bytes of the data files, from the manifest. */
  bytes?: number;
  ageMs: number;
  age: string;
  /** Dated beyond now plus clock skew: not trusted. */
  future: boolean;
  /** `manifest` (present and parsable), `verified` or `FAILED: …` after `--verify`, or the damage. */
  verification: string;
}

/** The outcome of {@link inspectBackups}. */
export interface BackupsReport {
  dest: string;
  now: string;
  backups: BackupRow[];
  newest?: string;
  /** Policy periods without a backup (`daily 2026-11-23`); only with a policy. */
  gaps: string[];
  /** Keep/delete decisions; only with a policy. */
  decisions?: Pick<Decision, 'id' | 'action' | 'reason'>[];
  /** What the prune deleted (empty on a dry run). */
  deleted: string[];
  applied: boolean;
  /** Why the check fails (stale, gaps, refused prune, pending deletions, failed verification); empty when all is well. */
  problems: string[];
}

/** Lists, checks and optionally prunes the backups under `dest`; never throws for a finding, only returns it. */
export const inspectBackups = async (dest: string, options: InspectOptions = {}): Promise<BackupsReport> => {
  const now = options.now ?? new Date();
  const rclone: RcloneOptions = { env: options.env };
  const folders = await listBackups(dest, rclone);
  const problems: string[] = [];
  // With --verify, a backup whose data does not match its manifest is not a good backup: it is
  // neither the newest nor counted by the policy (kept as damaged, for a person to look at).
  const failed = new Map<string, string[]>();
  if (options.verify) {
    for (const folder of folders) {
      if (!folder.manifest) continue;
      const differences = await verifyBackupData(dest, folder.id, folder.manifest, rclone);
      if (differences.length) failed.set(folder.id, differences);
    }
  }
  const counted = folders.map((folder) =>
    failed.has(folder.id)
      ? { ...folder, state: 'damaged' as const, problem: `data does not match the manifest: ${failed.get(folder.id)!.join('; ')}` }
      : folder,
  );
  const plan = planRetention(counted, { policy: options.policy ?? { daily: 1, weekly: 0, monthly: 0 }, now, rpoMs: options.rpoMs });
  const futureIds = new Set(plan.future.map((folder) => folder.id));

  const backups: BackupRow[] = [];
  for (const folder of folders) {
    let verification = folder.state === 'complete' ? 'manifest' : folder.state === 'damaged' ? folder.problem! : 'no manifest';
    if (options.verify && folder.manifest) {
      const differences = failed.get(folder.id) ?? [];
      verification = differences.length ? `FAILED: ${differences.join('; ')}` : 'verified';
      if (differences.length) problems.push(`${folder.id} does not match its manifest: ${differences.join('; ')}`);
    }
    const ageMs = now.getTime() - folder.time.getTime();
    backups.push({
      id: folder.id,
      state: folder.state,
      marked: folder.marked,
      kind: folder.manifest?.kind,
      bytes: folder.manifest ? manifestBytes(folder.manifest) : undefined,
      ageMs,
      age: formatAge(ageMs),
      future: futureIds.has(folder.id),
      verification,
    });
  }
  for (const folder of plan.future) problems.push(`${folder.id} is dated in the future (clock skew?): not trusted`);
  if (plan.refusal) problems.push(plan.refusal.replace(/: refusing to prune$/, options.prune ? ': refusing to prune' : ''));

  let gaps: string[] = [];
  let decisions: BackupsReport['decisions'];
  let deleted: string[] = [];
  let applied = false;
  if (options.policy) {
    decisions = plan.decisions.map(({ id, action, reason }) => ({ id, action, reason }));
    gaps = findGaps(trustedBackups(counted, now, 5 * 60_000), options.policy);
    // Gaps fail the monitor check; a prune or its verification is about deleting, not about a missed night.
    if (!options.prune && !options.checkPolicy) for (const gap of gaps) problems.push(`no backup for ${gap}`);
    if (options.checkPolicy) {
      for (const decision of pendingDeletions(plan)) problems.push(`${decision.id} should have been deleted: ${decision.reason}`);
    }
    if (options.prune && !plan.refusal) ({ deleted, applied } = await applyRetention(dest, plan, options.apply ?? false, rclone));
  }
  return { dest, now: now.toISOString(), backups, newest: plan.newest?.id, gaps, decisions, deleted, applied, problems };
};
