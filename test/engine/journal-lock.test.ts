import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createRunId, openJournal, readJournal } from '../../src/engine/journal.js';
import { acquireLock, lockPath } from '../../src/engine/lock.js';
import { createMasker } from '../../src/engine/mask.js';
import { ExitError } from '../../src/errors.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'runbook-journal-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const thrown = (fn: () => unknown): ExitError => {
  try {
    fn();
  } catch (error) {
    return error as ExitError;
  }
  throw new Error('expected an error');
};

describe('journal', () => {
  it('writes sequenced records that each carry their own checksum', () => {
    const path = join(dir, 'journal.jsonl');
    const journal = openJournal(path);
    journal.append({ t: 'now', type: 'run-start', runbook: 'x' });
    journal.append({ t: 'now', type: 'step-done', id: 'a' });
    journal.close();
    const lines = readFileSync(path, 'utf8').trim().split('\n');
    expect(lines.map((l) => JSON.parse(l).seq)).toEqual([1, 2]);
    expect(JSON.parse(lines[0]!).sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(readJournal(path)).toEqual({
      records: [expect.objectContaining({ seq: 1, type: 'run-start' }), expect.objectContaining({ seq: 2, id: 'a' })],
    });
  });

  it('reports a torn last record (partial write) and a record whose checksum does not match', () => {
    const path = join(dir, 'journal.jsonl');
    const journal = openJournal(path);
    journal.append({ t: 'now', type: 'run-start' });
    journal.close();
    const good = readFileSync(path, 'utf8');
    appendFileSync(path, '{"seq":2,"t":"now","type":"step-do');
    expect(readJournal(path).torn).toMatchObject({ line: 2, reason: 'not valid JSON', byteOffset: Buffer.byteLength(good) });
    writeFileSync(path, good + good.replace('run-start', 'run-strat'));
    expect(readJournal(path).torn).toMatchObject({ line: 2, reason: 'checksum mismatch' });
  });

  it('refuses corruption before the last record', () => {
    const path = join(dir, 'journal.jsonl');
    const journal = openJournal(path);
    for (let i = 0; i < 3; i++) journal.append({ t: 'now', type: 'x', i });
    journal.close();
    const lines = readFileSync(path, 'utf8').split('\n');
    lines[1] = lines[1]!.replace('"i":1', '"i":7');
    writeFileSync(path, lines.join('\n'));
    expect(thrown(() => readJournal(path))).toMatchObject({
      code: 2,
      message: expect.stringMatching(/journal\.jsonl:2 is corrupted \(checksum mismatch\) before its last record/),
    });
  });

  it('makes run ids that sort by time', () => {
    expect(createRunId(new Date('2026-11-26T04:05:12.345Z'), 42)).toBe('20261126T040512Z-42');
  });
});

describe('mask', () => {
  it('masks whole values and each line of multi-line values, longest first', () => {
    const mask = createMasker(['abcd', 'abcdefgh', 'line-one\nline-two\n\nab']);
    expect(mask('x abcdefgh y abcd z')).toBe('x *** y *** z');
    expect(mask('got line-two only')).toBe('got *** only');
    expect(mask('ab stays')).toBe('ab stays');
  });
});

describe('lock', () => {
  it('refuses a second holder, naming pid, host and start time (exit 4)', () => {
    const held = acquireLock(dir, 'nightly', 'run-a');
    const error = thrown(() => acquireLock(dir, 'nightly', 'run-b'));
    expect(error.code).toBe(4);
    expect(error.message).toContain(`pid ${process.pid} on host ${hostname()}, started ${held.info.startedAt} (run run-a)`);
    held.release();
    acquireLock(dir, 'nightly', 'run-c').release();
  });

  it('takes over a lock whose process died on this host', () => {
    const dead = spawnSync('true').pid!;
    acquireLock(dir, 'nightly', 'old').release();
    writeFileSync(
      lockPath(dir, 'nightly'),
      JSON.stringify({ pid: dead, host: hostname(), startedAt: '2026-01-01T00:00:00Z', runId: 'old' }),
    );
    const held = acquireLock(dir, 'nightly', 'new');
    expect(held.tookOver).toMatchObject({ pid: dead, runId: 'old' });
    expect(JSON.parse(readFileSync(lockPath(dir, 'nightly'), 'utf8'))).toMatchObject({ pid: process.pid, runId: 'new' });
    held.release();
  });

  it('never breaks a lock from another host', () => {
    acquireLock(dir, 'nightly', 'old').release();
    writeFileSync(
      lockPath(dir, 'nightly'),
      JSON.stringify({ pid: 1, host: 'other-host', startedAt: '2026-01-01T00:00:00Z', runId: 'old' }),
    );
    const error = thrown(() => acquireLock(dir, 'nightly', 'new'));
    expect(error.code).toBe(4);
    expect(error.message).toMatch(/pid 1 on host other-host, started 2026-01-01T00:00:00Z .*another host/);
  });
});
