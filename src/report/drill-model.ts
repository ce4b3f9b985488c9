// The drill report as data, built from the run's journal alone: the numbers people read in the
// Markdown, CI reads in the JUnit XML and the next drill compares against in the JSON are the
// journal's numbers, never a second measurement.
import type { JournalRecord } from '../engine/journal.js';
import type { Plan } from '../engine/plan-types.js';
import type { StepStatus } from '../engine/events.js';

/** Value of the report JSON's `format` field; a reader refuses any other. */
export const DRILL_FORMAT = 'runbook-drill/1';

/** Lines of verification output a report keeps per step (the last ones). */
export const VERIFY_TAIL_LINES = 20;

/** The backup a restore step used, from its outputs (`backup=ID`, `created=ISO`). */
export interface DrillBackup {
  id: string;
  /** When the backup was taken (ISO 8601 UTC): the manifest's `created`, else parsed from the id. */
  createdAt?: string;
  /** Age of the backup when the drill started: the data loss a real recovery would have had. */
  ageMs?: number;
}

export interface DrillStep {
  id: string;
  name: string;
  cleanup: boolean;
  status: StepStatus;
  startedAt?: string;
  finishedAt?: string;
  durationMs?: number;
  attempts: number;
  /** Why the step failed or was skipped. */
  reason?: string;
  /** A failure tolerated by continue_on_error. */
  tolerated?: boolean;
  verify: {
    /** The verification's shell text as the plan resolved it. */
    command?: string;
    passed?: boolean;
    polls?: number;
    /** The last poll's stdout, masked, trimmed to its last {@link VERIFY_TAIL_LINES} lines. */
    output?: string;
  };
  /** The step's published outputs (masked as the journal holds them). */
  outputs: Record<string, string>;
  backup?: DrillBackup;
}

export interface DrillComparison {
  /** The previous report's JSON file name, in the same folder. */
  previous: string;
  previousStartedAt: string;
  slower: { id: string; beforeMs: number; afterMs: number; ratio: number }[];
  newFailures: string[];
  newRetries: { id: string; before: number; after: number }[];
}

export interface DrillReport {
  format: typeof DRILL_FORMAT;
  runbook: string;
  file: string;
  kind: Plan['kind'];
  commit?: string;
  /** Files the drill read that differ from `commit` (--allow-dirty), over all its sessions. */
  dirty?: string[];
  environment?: string;
  user?: string;
  host?: string;
  runId: string;
  /** More than one when the drill was resumed after a crash or interruption. */
  sessions: number;
  startedAt: string;
  finishedAt?: string;
  /** One session: the engine's own measure; several: wall clock from first start to last end. */
  durationMs: number;
  outcome: 'success' | 'failed' | 'interrupted' | 'aborted' | 'unfinished';
  failedStep?: string;
  rto?: { target: string; targetMs: number; met: boolean };
  /** The oldest backup restored: what a real recovery would have lost. */
  rpo?: { achievedMs: number; step: string; backup: string; target?: string; targetMs?: number; met?: boolean };
  steps: DrillStep[];
  comparison?: DrillComparison;
  journal: string;
  log: string;
}

/** `2026-11-26T033717Z` (the backup id layout) as an ISO timestamp. */
export const parseBackupId = (id: string): string | undefined => {
  const match = /^(\d{4}-\d\d-\d\d)T(\d\d)(\d\d)(\d\d)Z$/.exec(id);
  return match ? `${match[1]}T${match[2]}:${match[3]}:${match[4]}Z` : undefined;
};

const tailLines = (text: string, lines: number): string => {
  const all = text.replace(/\n+$/, '').split('\n');
  return all.length > lines ? all.slice(-lines).join('\n') : all.join('\n');
};

const backupOf = (outputs: Record<string, string>, drillStart: number): DrillBackup | undefined => {
  const id = outputs.backup;
  if (!id) return undefined;
  const created = outputs.created && !Number.isNaN(Date.parse(outputs.created)) ? outputs.created : parseBackupId(id);
  return created ? { id, createdAt: created, ageMs: Math.max(0, drillStart - Date.parse(created)) } : { id };
};

type Verify = { passed?: boolean; polls?: number; output?: string } | undefined;

export interface BuildDrillReportOptions {
  plan: Plan;
  /** Every record of the run's journal, in order. */
  records: readonly JournalRecord[];
  journal: string;
  log: string;
}

/** The report of the run whose journal `records` are; `comparison` is added by the caller. */
export const buildDrillReport = ({ plan, records, journal, log }: BuildDrillReportOptions): DrillReport => {
  const starts = records.filter((r) => r.type === 'run-start');
  const first = starts[0];
  if (!first) throw new Error(`journal ${journal} has no run-start record`);
  const last = starts.at(-1)!;
  const ends = records.filter((r) => r.type === 'run-end');
  const end = ends.at(-1);
  const finished = end !== undefined && records.indexOf(end) > records.indexOf(last);
  const drillStart = Date.parse(first.t);
  const planned = new Map([...plan.steps, ...plan.cleanup].map((s) => [s.id, s]));

  const steps = new Map<string, DrillStep>();
  for (const entry of last.steps as { id: string; name: string; cleanup: boolean }[]) {
    steps.set(entry.id, {
      id: entry.id,
      name: entry.name,
      cleanup: entry.cleanup,
      status: 'pending',
      attempts: 0,
      verify: { command: planned.get(entry.id)?.verify.run },
      outputs: {},
    });
  }
  const lastVerify = new Map<string, Verify>();
  for (const record of records) {
    const step = typeof record.id === 'string' ? steps.get(record.id) : undefined;
    if (!step) continue;
    switch (record.type) {
      case 'step-start':
        Object.assign(step, { status: 'running', startedAt: record.t, finishedAt: undefined, durationMs: undefined, reason: undefined });
        lastVerify.delete(step.id);
        break;
      case 'step-attempt':
        step.attempts = Number(record.attempt);
        if (record.verify) lastVerify.set(step.id, record.verify as Verify);
        break;
      case 'step-done':
        Object.assign(step, {
          status: 'done',
          finishedAt: record.t,
          durationMs: record.durationMs,
          attempts: record.attempts,
          outputs: record.outputs ?? {},
          reason: undefined,
        });
        lastVerify.set(step.id, record.verify as Verify);
        break;
      case 'step-failed':
        Object.assign(step, {
          status: 'failed',
          finishedAt: record.t,
          durationMs: record.durationMs,
          attempts: record.attempts,
          reason: record.error,
          tolerated: record.tolerated,
        });
        break;
      case 'step-skipped':
        // A resumed run skips what an earlier session verified: that session's record stands.
        if (step.status === 'done') break;
        Object.assign(step, { status: 'skipped', reason: record.reason });
        break;
    }
  }
  for (const step of steps.values()) {
    if (step.status === 'running') step.status = 'interrupted';
    const verify = lastVerify.get(step.id);
    if (verify)
      step.verify = {
        ...step.verify,
        passed: verify.passed,
        polls: verify.polls,
        output: tailLines(verify.output ?? '', VERIFY_TAIL_LINES),
      };
    const backup = backupOf(step.outputs, drillStart);
    if (backup) step.backup = backup;
  }

  const durationMs =
    starts.length === 1 && finished ? Number(end!.durationMs) : Date.parse((finished ? end! : records.at(-1)!).t) - drillStart;
  const all = [...steps.values()];
  const aged = all.filter((s) => s.status === 'done' && s.backup?.ageMs !== undefined);
  const oldest = aged.reduce<DrillStep | undefined>(
    (worst, s) => (!worst || s.backup!.ageMs! > worst.backup!.ageMs! ? s : worst),
    undefined,
  );

  return {
    format: DRILL_FORMAT,
    runbook: plan.name,
    file: plan.file,
    kind: plan.kind,
    commit: first.commit as string | undefined,
    dirty: dirtyFiles(starts),
    environment: first.environment as string | undefined,
    user: first.user as string | undefined,
    host: first.host as string | undefined,
    runId: String(first.runId),
    sessions: starts.length,
    startedAt: first.t,
    finishedAt: finished ? end!.t : undefined,
    durationMs,
    outcome: finished ? (end!.outcome as DrillReport['outcome']) : 'unfinished',
    failedStep: finished ? (end!.failedStep as string | undefined) : undefined,
    rto:
      plan.rtoMs !== undefined && plan.rto
        ? { target: plan.rto, targetMs: plan.rtoMs, met: finished && durationMs <= plan.rtoMs }
        : undefined,
    rpo: oldest
      ? {
          achievedMs: oldest.backup!.ageMs!,
          step: oldest.id,
          backup: oldest.backup!.id,
          ...(plan.rpoMs !== undefined && plan.rpo
            ? { target: plan.rpo, targetMs: plan.rpoMs, met: oldest.backup!.ageMs! <= plan.rpoMs }
            : {}),
        }
      : undefined,
    steps: all,
    journal,
    log,
  };
};

/** Whether the drill passed: every step succeeded and the RTO (when set) was met. */
export const drillPassed = (report: DrillReport): boolean => report.outcome === 'success' && report.rto?.met !== false;

/** The files any session of the run read with uncommitted changes; undefined when none did. */
const dirtyFiles = (starts: readonly JournalRecord[]): string[] | undefined => {
  const files = [...new Set(starts.flatMap((start) => (Array.isArray(start.dirty) ? (start.dirty as string[]) : [])))];
  return files.length > 0 ? files : undefined;
};
