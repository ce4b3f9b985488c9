import { describe, expect, it } from 'vitest';
import { formatBackupId, parseBackupId } from '../../src/backup/id.js';
import { findGaps, isoWeekOf, selectRetained } from '../../src/backup/policy.js';

const at = (id: string) => ({ id, time: parseBackupId(id)! });

/** One backup a day at 02:00 UTC from `first` to `last` (inclusive). */
const daily = (first: string, last: string) => {
  const ids: string[] = [];
  for (let time = Date.parse(`${first}T02:00:00Z`); time <= Date.parse(`${last}T02:00:00Z`); time += 86_400_000)
    ids.push(formatBackupId(new Date(time)));
  return ids;
};

describe('backup ids', () => {
  it('parses only real UTC timestamps', () => {
    expect(parseBackupId('2026-11-25T020000Z')?.toISOString()).toBe('2026-11-25T02:00:00.000Z');
    expect(parseBackupId('2026-02-30T020000Z')).toBeUndefined();
    expect(parseBackupId('2026-11-25T240000Z')).toBeUndefined();
    expect(parseBackupId('2026-11-25')).toBeUndefined();
    expect(formatBackupId(new Date('2026-11-25T02:03:04.567Z'))).toBe('2026-11-25T020304Z');
  });
});

describe('isoWeekOf', () => {
  it.each([
    ['2026-11-25T00:00:00Z', '2026-W48'],
    ['2026-11-23T00:00:00Z', '2026-W48'], // Monday starts the week
    ['2026-11-22T23:59:59Z', '2026-W47'], // Sunday ends the previous one
    ['2026-01-01T00:00:00Z', '2026-W01'], // a Thursday: week 1
    ['2027-01-01T00:00:00Z', '2026-W53'], // a Friday: still the last week of 2026
    ['2024-12-30T00:00:00Z', '2025-W01'], // a Monday in December, week 1 of next year
  ])('%s is in %s', (time, week) => expect(isoWeekOf(new Date(time))).toBe(week));
});

describe('selectRetained', () => {
  it('keeps exactly the newest backup of the last 7 days, 4 ISO weeks and 6 months over a year', () => {
    const ids = [...daily('2025-11-26', '2026-11-25'), '2026-11-24T140000Z', '2026-10-31T235959Z'];
    const kept = selectRetained(ids.map(at), { daily: 7, weekly: 4, monthly: 6 });
    expect([...kept.keys()].sort()).toEqual(
      [
        '2026-06-30T020000Z',
        '2026-07-31T020000Z',
        '2026-08-31T020000Z',
        '2026-09-30T020000Z',
        '2026-10-31T235959Z', // the newest of October, not its 02:00 backup
        '2026-11-08T020000Z',
        '2026-11-15T020000Z',
        '2026-11-19T020000Z',
        '2026-11-20T020000Z',
        '2026-11-21T020000Z',
        '2026-11-22T020000Z',
        '2026-11-23T020000Z',
        '2026-11-24T140000Z', // the newest of its day
        '2026-11-25T020000Z',
      ].sort(),
    );
    expect(kept.get('2026-11-25T020000Z')).toEqual(['newest', 'daily 2026-11-25', 'weekly 2026-W48', 'monthly 2026-11']);
    expect(kept.get('2026-11-22T020000Z')).toEqual(['daily 2026-11-22', 'weekly 2026-W47']);
    expect(kept.get('2026-10-31T235959Z')).toEqual(['monthly 2026-10']);
  });

  it('counts days that have backups, not calendar days, and always keeps the newest', () => {
    const ids = ['2026-01-01T020000Z', '2026-01-05T020000Z', '2026-01-09T020000Z', '2026-01-09T030000Z'];
    expect([...selectRetained(ids.map(at), { daily: 2, weekly: 0, monthly: 0 }).keys()].sort()).toEqual([
      '2026-01-05T020000Z',
      '2026-01-09T030000Z',
    ]);
    expect([...selectRetained(ids.map(at), { daily: 0, weekly: 0, monthly: 0 }).entries()]).toEqual([['2026-01-09T030000Z', ['newest']]]);
    expect(selectRetained([], { daily: 7, weekly: 4, monthly: 6 }).size).toBe(0);
  });
});

describe('findGaps', () => {
  it('names the promised periods without a backup, but not before the first backup', () => {
    const ids = daily('2026-11-01', '2026-11-25').filter((id) => !id.startsWith('2026-11-23'));
    expect(findGaps(ids.map(at), { daily: 7, weekly: 4, monthly: 6 })).toEqual(['daily 2026-11-23']);
    expect(findGaps(daily('2026-11-20', '2026-11-25').map(at), { daily: 7, weekly: 4, monthly: 6 })).toEqual([]);
    expect(findGaps(['2026-09-10T020000Z', '2026-11-25T020000Z'].map(at), { daily: 1, weekly: 0, monthly: 3 })).toEqual([
      'monthly 2026-10',
    ]);
  });
});
