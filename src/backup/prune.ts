// Carries out a retention plan. Crash-safe by order: every folder to delete is first marked
// (`.pruning`), then loses its manifest (so it can never be restored half-deleted), then the rest.
// A prune killed at any point leaves marked or manifest-less folders that the next run finishes.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExitCode, ExitError } from '../errors.js';
import { pruneMarkName } from './list.js';
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

/**
 * Deletes what the plan deletes, when `apply` is true; a dry run returns what it would delete.
 * Refuses (exit 1) when the plan carries a refusal, and — the last guard — when a deletion names
 * the newest complete backup.
 */
export const applyRetention = async (
  dest: string,
  plan: RetentionPlan,
  apply: boolean,
  options: RcloneOptions = {},
): Promise<PruneResult> => {
  if (plan.refusal) throw new ExitError(ExitCode.failed, plan.refusal);
  const deletions = pendingDeletions(plan);
  if (plan.newest && deletions.some((decision) => decision.id === plan.newest!.id)) {
    throw new ExitError(ExitCode.failed, `refusing to delete the newest complete backup ${plan.newest.id} (this is a bug)`);
  }
  if (!apply) return { deleted: [], applied: false };
  if (!deletions.length) return { deleted: [], applied: true };
  const scratch = await mkdtemp(join(tmpdir(), 'runbook-prune-'));
  try {
    // 1. Mark every folder first, in one upload: a prune killed from here on is visibly unfinished.
    const note = `marked for deletion by runbook retention at ${new Date().toISOString()}\n`;
    for (const { folder } of deletions) {
      await mkdir(join(scratch, 'marks', folder.id), { recursive: true });
      await writeFile(join(scratch, 'marks', folder.id, pruneMarkName), note);
    }
    await runRclone(['copy', join(scratch, 'marks'), dest], options);
    // 2. Drop their manifests, in one call: from here on none of them can be restored or counted.
    const manifests = deletions.filter(({ folder }) => folder.state !== 'incomplete').map(({ id }) => `${id}/manifest.json`);
    if (manifests.length) {
      await writeFile(join(scratch, 'manifests.txt'), manifests.join('\n') + '\n');
      await runRclone(['delete', dest, '--files-from-raw', join(scratch, 'manifests.txt')], options);
    }
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
  // 3. Then the data, folder by folder.
  const deleted: string[] = [];
  for (const { folder } of deletions) {
    await runRclone(['purge', joinRemote(dest, folder.id)], options);
    deleted.push(folder.id);
  }
  return { deleted, applied: true };
};
