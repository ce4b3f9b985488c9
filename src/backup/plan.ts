// Decides, for every backup folder of a destination, whether a prune keeps or deletes it and why.
// Pure: the folders and the clock come in, decisions come out; nothing is touched here.
import { formatDuration } from '../runbook/duration.js';
import { selectRetained, type RetentionPolicy } from './policy.js';
import { newestTrusted, trustedBackups, type BackupFolder } from './trust.js';

/** Options of {@link planRetention}. */
export interface PlanOptions {
  policy: RetentionPolicy;
  /** The current time. @default new Date() */
  now?: Date;
  /** Refuse to prune when the newest complete backup is older than this many milliseconds. @default no limit */
  rpoMs?: number;
  /** Incomplete folders younger than this may be a backup still running and are left alone. @default 1 day */
  incompleteGraceMs?: number;
}

/** What happens to one folder, and why (one line a person reads in the plan). */
export interface Decision {
  id: string;
  action: 'keep' | 'delete';
  reason: string;
  folder: BackupFolder;
}

/** The outcome of {@link planRetention}. */
export interface RetentionPlan {
  decisions: Decision[];
  /** The newest complete, trusted backup. */
  newest?: BackupFolder;
  /** Why pruning is refused (stale backups): when set, nothing may be deleted. */
  refusal?: string;
  /** Backups dated beyond now + skew: reported, never counted as newest, never deleted. */
  future: BackupFolder[];
}

/** `3d 4h`, `5h 02m 00s`: an age for people (days matter more than seconds for backups). */
export const formatAge = (ms: number): string => {
  const days = Math.floor(Math.abs(ms) / 86_400_000);
  const hours = Math.floor((Math.abs(ms) % 86_400_000) / 3_600_000);
  const text = days >= 1 ? (hours ? `${days}d ${hours}h` : `${days}d`) : formatDuration(Math.abs(ms));
  return ms < 0 ? `-${text}` : text;
};

/** The decisions a prune acts on; deletions are dropped (and `refusal` set) when the backups are stale. */
export const planRetention = (folders: readonly BackupFolder[], options: PlanOptions): RetentionPlan => {
  const now = options.now ?? new Date();
  const graceMs = options.incompleteGraceMs ?? 86_400_000;
  // Only trusted complete backups (trust.ts) are counted, kept by the policy or the newest.
  const retained = selectRetained(trustedBackups(folders), options.policy);
  const newest = newestTrusted(folders);
  const future = folders.filter((folder) => folder.future);

  let refusal: string | undefined;
  if (options.rpoMs !== undefined) {
    if (!newest) refusal = `no complete backup (RPO ${formatAge(options.rpoMs)}): refusing to prune`;
    else if (now.getTime() - newest.time.getTime() > options.rpoMs) {
      refusal = `newest complete backup ${newest.id} is ${formatAge(now.getTime() - newest.time.getTime())} old, older than the RPO ${formatAge(options.rpoMs)}: refusing to prune`;
    }
  }

  const decide = (folder: BackupFolder): Omit<Decision, 'id' | 'folder'> => {
    const age = now.getTime() - folder.time.getTime();
    if (folder.future) return { action: 'keep', reason: `dated in the future (clock skew?): not trusted, not deleted` };
    // A prune marked these for deletion (older than a trusted backup then): finished now, as long
    // as a newer trusted backup exists. A mark on anything newer is not a prune's: kept for a person.
    if (folder.marked && folder.state === 'incomplete') return { action: 'delete', reason: 'partly deleted by an earlier prune' };
    if (folder.marked && newest && folder.time < newest.time) return { action: 'delete', reason: 'marked by an earlier prune' };
    if (folder.marked) return { action: 'keep', reason: 'marked by a prune, but no trusted backup is newer: not trusted, not deleted' };
    if (folder.state === 'untrusted') return { action: 'keep', reason: `not trusted (${folder.problem}): left for a person to look at` };
    if (folder.state === 'incomplete') {
      if (age < graceMs) return { action: 'keep', reason: `incomplete, younger than ${formatAge(graceMs)} (a backup may be running)` };
      return { action: 'delete', reason: `incomplete (no manifest), older than ${formatAge(graceMs)}` };
    }
    const reasons = retained.get(folder.id);
    if (reasons) return { action: 'keep', reason: reasons.join(', ') };
    return { action: 'delete', reason: 'not in policy' };
  };

  const decisions = folders.map((folder): Decision => {
    const decision = { id: folder.id, folder, ...decide(folder) };
    if (refusal && decision.action === 'delete')
      return { ...decision, action: 'keep', reason: `${decision.reason}; kept: pruning refused` };
    return decision;
  });
  return { decisions, newest, refusal, future };
};
