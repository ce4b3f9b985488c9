// The append-only journal of a run: one JSON record per line, each carrying the sha256 of the
// rest of itself and fsynced before the engine goes on, so a crash loses at most a torn last line.
import { createHash } from 'node:crypto';
import {
  closeSync,
  fstatSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  ftruncateSync,
  writeSync,
  existsSync,
  readdirSync,
} from 'node:fs';
import { join } from 'node:path';
import { ExitError, ExitCode } from '../errors.js';
import { StateWriteError } from './state-fault.js';

export type JournalRecord = { seq: number; t: string; type: string; [key: string]: unknown };

export interface Journal {
  readonly path: string;
  /**
   * Appends one record and fsyncs it; returns the record as written. Throws StateWriteError when it
   * cannot: then the journal is as it was before (a partial line is cut off), so it stays readable.
   */
  append: (record: Omit<JournalRecord, 'seq'>) => JournalRecord;
  close: () => void;
}

const checksum = (body: string): string => createHash('sha256').update(body).digest('hex');

/** Serializes a record with its checksum as the last field. */
export const sealRecord = (record: JournalRecord): string => {
  const body = JSON.stringify(record);
  return `${body.slice(0, -1)},"sha256":"${checksum(body)}"}`;
};

export const runDirectory = (stateDir: string, runId: string): string => join(stateDir, 'runs', runId);

export const journalPath = (stateDir: string, runId: string): string => join(runDirectory(stateDir, runId), 'journal.jsonl');

/** Opens (creating) a run's journal for appending; `nextSeq` continues a resumed run. */
export const openJournal = (path: string, nextSeq = 1): Journal => {
  mkdirSync(join(path, '..'), { recursive: true, mode: 0o700 });
  const fd = openSync(path, 'a', 0o600);
  let seq = nextSeq;
  // Set once a failed write could not be cut back: more records would follow a torn line.
  let broken: unknown;
  return {
    path,
    append: (partial) => {
      if (broken !== undefined) throw new StateWriteError(path, broken);
      const record = { seq, ...partial } as JournalRecord;
      appendWhole(fd, path, Buffer.from(sealRecord(record) + '\n'), (error) => (broken = error));
      seq++;
      return record;
    },
    close: () => closeSync(fd),
  };
};

/**
 * Writes all of `bytes` (a full disk can accept part of them) and fsyncs; on failure cuts the file
 * back to where it was, or reports it `broken` when even that fails.
 */
const appendWhole = (fd: number, path: string, bytes: Buffer, onBroken: (error: unknown) => void) => {
  let size: number | undefined;
  try {
    size = fstatSync(fd).size;
    for (let done = 0; done < bytes.length;) done += writeSync(fd, bytes, done);
    fsyncSync(fd);
  } catch (error) {
    try {
      if (size !== undefined) ftruncateSync(fd, size);
    } catch {
      onBroken(error);
    }
    throw new StateWriteError(path, error);
  }
};

export interface ReadJournal {
  records: JournalRecord[];
  /** The torn or corrupted last line, when there is one. */
  torn?: { line: number; text: string; reason: string; byteOffset: number };
}

const checkLine = (text: string): { record?: JournalRecord; reason?: string } => {
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return { reason: 'not valid JSON' };
  }
  if (!parsed || typeof parsed !== 'object' || typeof parsed.sha256 !== 'string') return { reason: 'no checksum' };
  const { sha256, ...rest } = parsed;
  if (checksum(JSON.stringify(rest)) !== sha256) return { reason: 'checksum mismatch' };
  return { record: rest as JournalRecord };
};

/**
 * Reads and checks a journal. A bad last line (a write torn by a crash) is reported in `torn`;
 * a bad line before the last means the file was damaged otherwise, and is refused.
 */
export const readJournal = (path: string): ReadJournal => {
  const content = readFileSync(path, 'utf8');
  const lines = content.split('\n');
  // A complete journal ends with a newline; the empty string after it is no record.
  const complete = lines.at(-1) === '';
  if (complete) lines.pop();
  const records: JournalRecord[] = [];
  let offset = 0;
  for (const [index, text] of lines.entries()) {
    const isLast = index === lines.length - 1;
    const { record, reason } = checkLine(text);
    const bad = reason ?? (isLast && !complete ? 'incomplete line' : undefined);
    if (bad) {
      if (!isLast) {
        throw new ExitError(
          ExitCode.usage,
          `journal ${path}:${index + 1} is corrupted (${bad}) before its last record; refusing to resume from it: ${text.slice(0, 200)}`,
        );
      }
      return { records, torn: { line: index + 1, text, reason: bad, byteOffset: offset } };
    }
    records.push(record!);
    offset += Buffer.byteLength(text) + 1;
  }
  return { records };
};

/** Cuts a torn last record off (only with --force), so appending goes on from a clean line. */
export const dropTornRecord = (path: string, byteOffset: number): void => {
  const fd = openSync(path, 'r+');
  try {
    ftruncateSync(fd, byteOffset);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
};

/** Run ids under `stateDir`, oldest first (ids sort by time). */
export const listRunIds = (stateDir: string): string[] => {
  const runs = join(stateDir, 'runs');
  if (!existsSync(runs)) return [];
  return readdirSync(runs)
    .filter((id) => existsSync(join(runs, id, 'journal.jsonl')))
    .sort();
};

/** A run id sortable by time: `20261126T040512Z-<pid>`. */
export const createRunId = (now = new Date(), pid = process.pid): string =>
  `${now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z')}-${pid}`;

/** The last record matching `test` (ES2022 has no Array#findLast). */
export const findLastRecord = (records: readonly JournalRecord[], test: (record: JournalRecord) => boolean): JournalRecord | undefined => {
  for (let i = records.length - 1; i >= 0; i--) if (test(records[i]!)) return records[i];
  return undefined;
};
