// Carries out a retention plan. Crash-safe by order: every folder to delete is first marked
// (`.pruning`), then loses its manifest (so it can never be restored half-deleted), then the rest.
// A prune killed at any point leaves marked or manifest-less folders that the next run finishes.
import { ExitCode, ExitError } from '../errors.js';
import { pruneMarkName, type BackupFolder } from './list.js';
import type { Decision, RetentionPlan } from './plan.js';
import { joinRemote, runRclone, type RcloneOptions } from './rclone.js';

/** What a prune did. */
export interface PruneResult {
  /** Ids deleted (all of them when applied; none on a dry run). */
  deleted: string[];
  /** Whether anything was touched. */
  applied: boolean;
}

/** The ids a prune would delete, in the order it deletes them (oldest first). */
export const pendingDeletions = (plan: RetentionPlan): Decision[] => plan.decisions.filter((decision) => decision.action === 'delete');

const deleteFolder = async (dest: string, folder: BackupFolder, options: RcloneOptions) => {
  const path = joinRemote(dest, folder.id);
  if (folder.state !== 'incomplete') await runRclone(['deletefile', joinRemote(path, 'manifest.json')], options);
  await runRclone(['purge', path], options);
};

/**
 * Deletes what the plan deletes, when `apply` is true; a dry run returns what it would delete.
 * Refuses (exit 1) when the plan carries a refusal, and — the last guard — when a deletion names
 * the newest complete backup.
 */
export const applyRetention = async (dest: string, plan: RetentionPlan, apply: boolean, options: RcloneOptions = {}): Promise<PruneResult> => {
  if (plan.refusal) throw new ExitError(ExitCode.failed, plan.refusal);
  const deletions = pendingDeletions(plan);
  if (plan.newest && deletions.some((decision) => decision.id === plan.newest!.id)) {
    throw new ExitError(ExitCode.failed, `refusing to delete the newest complete backup ${plan.newest.id} (this is a bug)`);
  }
  if (!apply) return { deleted: [], applied: false };
  const note = `marked for deletion by runbook retention at ${new Date().toISOString()}\n`;
  for (const { folder } of deletions) {
    if (!folder.marked) await runRclone(['rcat', joinRemote(joinRemote(dest, folder.id), pruneMarkName)], { ...options, input: note });
  }
  const deleted: string[] = [];
  for (const { folder } of deletions) {
    await deleteFolder(dest, folder, options);
    deleted.push(folder.id);
  }
  return { deleted, applied: true };
};
