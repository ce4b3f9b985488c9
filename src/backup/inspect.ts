// `runbook backups DEST` as data: the backups under a destination judged by trust.ts, how fresh the
// newest trusted one is, what the retention policy keeps and misses, and — when asked — what a prune
// deletes. The CLI prints it.
import { manifestBytes } from './manifest.js';
import { formatAge, planRetention, type Decision } from './plan.js';
import { findGaps, type RetentionPolicy } from './policy.js';
import { applyRetention, pendingDeletions } from './prune.js';
import type { RcloneOptions } from './rclone.js';
import { loadBackups, trustedBackups, type BackupFolder, type SignaturePolicy, type SignatureState } from './trust.js';
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
  /** Re-hash every trusted backup's stored data against its manifest. @default false */
  verify?: boolean;
  /** Whose signatures make a backup trusted. @default signatures not checked */
  signatures?: SignaturePolicy;
  /** The current time. @default new Date() */
  now?: Date;
}

/** One backup folder as listed. */
export interface BackupRow {
  id: string;
  /** `complete` (trusted), `incomplete` (no manifest) or `untrusted` (see `verification`). */
  state: BackupFolder['state'];
  marked: boolean;
  kind?: string;
  /** Bytes of the data files, from the manifest. */
  bytes?: number;
  ageMs: number;
  age: string;
  /** Dated beyond now plus clock skew: not trusted. */
  future: boolean;
  signature: SignatureState;
  /** `manifest` (trusted without re-hashing), `verified` after `--verify`, else why it is not trusted. */
  verification: string;
}

/** The outcome of {@link inspectBackups}. */
export interface BackupsReport {
  dest: string;
  now: string;
  backups: BackupRow[];
  /** Folders whose names are not backup ids: never backups, never touched. */
  ignored: string[];
  /** The newest trusted complete backup. */
  newest?: string;
  /** Whether signatures were checked (`--signers`), allowed to be absent, or not checked at all. */
  signatures: 'checked' | 'checked, unsigned allowed' | 'unsigned allowed' | 'not checked';
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

/** How the signature policy reads in a report. */
export const describeSignatures = (policy: SignaturePolicy = {}): BackupsReport['signatures'] =>
  policy.signers?.length
    ? policy.allowUnsigned
      ? 'checked, unsigned allowed'
      : 'checked'
    : policy.allowUnsigned
      ? 'unsigned allowed'
      : 'not checked';

/** With --verify: a trusted backup whose stored bytes do not hash to its manifest's is untrusted too. */
const rehash = async (dest: string, folders: BackupFolder[], rclone: RcloneOptions): Promise<BackupFolder[]> => {
  const result: BackupFolder[] = [];
  for (const folder of folders) {
    if (folder.state !== 'complete' || !folder.manifest) {
      result.push(folder);
      continue;
    }
    const differences = await verifyBackupData(dest, folder.id, folder.manifest, rclone);
    if (!differences.length) result.push(folder);
    else {
      const problems = [`data does not match the manifest: ${differences.join('; ')}`];
      result.push({ ...folder, state: 'untrusted', problems, problem: problems[0] });
    }
  }
  return result;
};

const rowOf = (folder: BackupFolder, now: Date, verified: boolean): BackupRow => {
  const ageMs = now.getTime() - folder.time.getTime();
  return {
    id: folder.id,
    state: folder.state,
    marked: folder.marked,
    kind: folder.manifest?.kind,
    bytes: folder.manifest ? manifestBytes(folder.manifest) : undefined,
    ageMs,
    age: formatAge(ageMs),
    future: folder.future,
    signature: folder.signature,
    verification:
      folder.state === 'complete'
        ? verified
          ? 'verified'
          : 'manifest'
        : folder.state === 'incomplete'
          ? 'no manifest'
          : `not trusted: ${folder.problem}`,
  };
};

/** Lists, checks and optionally prunes the backups under `dest`; never throws for a finding, only returns it. */
export const inspectBackups = async (dest: string, options: InspectOptions = {}): Promise<BackupsReport> => {
  const now = options.now ?? new Date();
  const rclone: RcloneOptions = { env: options.env };
  const loaded = await loadBackups(dest, { env: options.env, now, signatures: options.signatures });
  const problems: string[] = [];
  const folders = options.verify ? await rehash(dest, loaded.backups, rclone) : loaded.backups;
  const plan = planRetention(folders, { policy: options.policy ?? { daily: 1, weekly: 0, monthly: 0 }, now, rpoMs: options.rpoMs });

  const backups = folders.map((folder) => rowOf(folder, now, options.verify ?? false));
  // With --verify, every folder with a manifest that is not trusted fails the check: it claims to
  // be a backup and is not one. Without, only what the listing alone shows: the future-dated ones.
  if (options.verify) {
    for (const folder of folders)
      if (folder.state === 'untrusted' && !folder.marked) problems.push(`${folder.id} is not trusted: ${folder.problem}`);
  } else {
    for (const folder of plan.future) problems.push(`${folder.id} is dated in the future (clock skew?): not trusted`);
  }
  if (plan.refusal) problems.push(plan.refusal.replace(/: refusing to prune$/, options.prune ? ': refusing to prune' : ''));

  let gaps: string[] = [];
  let decisions: BackupsReport['decisions'];
  let deleted: string[] = [];
  let applied = false;
  if (options.policy) {
    decisions = plan.decisions.map(({ id, action, reason }) => ({ id, action, reason }));
    gaps = findGaps(trustedBackups(folders), options.policy);
    // Gaps fail the monitor check; a prune or its verification is about deleting, not about a missed night.
    if (!options.prune && !options.checkPolicy) for (const gap of gaps) problems.push(`no backup for ${gap}`);
    if (options.checkPolicy) {
      for (const decision of pendingDeletions(plan)) problems.push(`${decision.id} should have been deleted: ${decision.reason}`);
    }
    if (options.prune && !plan.refusal) ({ deleted, applied } = await applyRetention(dest, plan, options.apply ?? false, rclone));
  }
  return {
    dest,
    now: now.toISOString(),
    backups,
    ignored: loaded.ignored,
    newest: plan.newest?.id,
    signatures: describeSignatures(options.signatures),
    gaps,
    decisions,
    deleted,
    applied,
    problems,
  };
};
