// `--resume`: finds the last unfinished run of a runbook and what its journal proves was done.
import { findLastRecord, readJournal, dropTornRecord, listRunIds, journalPath, type JournalRecord } from './journal.js';
import { readFileSync } from 'node:fs';
import { ExitCode, ExitError } from '../errors.js';
import type { Plan } from './plan-types.js';
import { inputDifferences, type RecordedInputs, type RunInputs } from './run-inputs.js';
import type { ResumeState } from './run-types.js';

export interface ResumeCheck {
  state: ResumeState;
  /** Steps whose definition changed since the journal recorded them. */
  changed: string[];
  /** How this run's inputs differ from the journaled run's (resumed anyway with `force`). */
  inputsDiffer: string[];
  /** Set when a torn last record was dropped (with --force). */
  droppedTorn?: string;
}

const lastRunOf = (stateDir: string, runbook: string) => {
  for (const runId of listRunIds(stateDir).reverse()) {
    const path = journalPath(stateDir, runId);
    // Reading the first line is enough to know the runbook; full checks happen below.
    const first = readJournalHead(path);
    if (first?.runbook === runbook) return { runId, path };
  }
  return undefined;
};

const readJournalHead = (path: string): JournalRecord | undefined => {
  try {
    const text = readFileSync(path, 'utf8');
    return JSON.parse(text.slice(0, text.indexOf('\n'))) as JournalRecord;
  } catch {
    return undefined;
  }
};

/** This run's inputs, to compare with those its journal recorded. */
export interface CurrentInputs {
  inputs: RunInputs;
  /** The declared secrets' values: only ever compared as whether each is set. */
  secretValues: Record<string, string>;
}

/** How the inputs differ from those of the journal's last session; nothing for a journal that recorded none. */
const compareInputs = (records: readonly JournalRecord[], current: CurrentInputs | undefined): string[] => {
  const recorded = findLastRecord(records, (r) => r.type === 'run-start')?.inputs as RecordedInputs | undefined;
  if (!current || !recorded || typeof recorded.salt !== 'string') return [];
  return inputDifferences(recorded, current.inputs, current.secretValues);
};

/**
 * The resume state of the last run of `plan` in `stateDir`. Refuses (exit 2) when there is none,
 * when it succeeded, when its journal is damaged (a torn last record is dropped with `force`), when
 * the run's inputs (`--env`, vars, env file, secrets set) differ from the journaled run's, or when a
 * step it verified has changed since (unless `force`: then that step runs again, or the step is
 * among `rerun`, which run again anyway: `--from`).
 */
export const loadResume = (
  stateDir: string,
  plan: Plan,
  force: boolean,
  rerun: ReadonlySet<string> = new Set(),
  current?: CurrentInputs,
): ResumeCheck => {
  const last = lastRunOf(stateDir, plan.name);
  if (!last) throw new ExitError(ExitCode.usage, `nothing to resume: no run of '${plan.name}' in ${stateDir}`);
  const journal = readJournal(last.path);
  let droppedTorn: string | undefined;
  if (journal.torn) {
    const where = `${last.path}:${journal.torn.line}`;
    if (!force) {
      throw new ExitError(
        ExitCode.usage,
        `journal ${where}: the last record is torn or corrupted (${journal.torn.reason}), probably by a crash while writing it: ${journal.torn.text.slice(0, 200)} — rerun with --force to drop it and resume`,
      );
    }
    dropTornRecord(last.path, journal.torn.byteOffset);
    droppedTorn = where;
  }
  const records = journal.records;
  const lastEnd = findLastRecord(records, (r) => r.type === 'run-end' || r.type === 'run-start');
  if (lastEnd?.type === 'run-end' && lastEnd.outcome === 'success') {
    throw new ExitError(ExitCode.usage, `nothing to resume: the last run of '${plan.name}' (${last.runId}) succeeded`);
  }
  const inputsDiffer = compareInputs(records, current);
  if (inputsDiffer.length > 0 && !force) {
    throw new ExitError(
      ExitCode.usage,
      `cannot resume ${last.runId}: it ran with other inputs: ${inputsDiffer.join('; ')}; rerun with the same ones, or with --force to run again every step that reads them`,
    );
  }
  const done = new Map<string, { hash: string; outputs: Record<string, string> }>();
  for (const record of records) {
    if (record.type === 'step-done')
      done.set(String(record.id), { hash: String(record.hash), outputs: (record.outputs ?? {}) as Record<string, string> });
  }
  const changed: string[] = [];
  const changedDone: string[] = [];
  const recordedHash = new Map<string, string>();
  for (const record of records)
    if ((record.type === 'step-start' || record.type === 'step-failed') && typeof record.hash === 'string')
      recordedHash.set(String(record.id), record.hash);
  for (const step of plan.steps) {
    const verified = done.get(step.id);
    const before = verified?.hash ?? recordedHash.get(step.id);
    if (before !== undefined && before !== step.hash) {
      changed.push(step.id);
      if (verified && !rerun.has(step.id)) changedDone.push(step.id);
    }
  }
  if (changedDone.length > 0 && !force) {
    throw new ExitError(
      ExitCode.usage,
      `cannot resume ${last.runId}: step(s) ${changedDone.map((id) => `'${id}'`).join(', ')} changed since they were verified; rerun with --force to run them again`,
    );
  }
  const nextSeq = (records.at(-1)?.seq ?? 0) + 1;
  return { state: { runId: last.runId, nextSeq, done }, changed, inputsDiffer, droppedTorn };
};
