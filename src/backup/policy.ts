// Grandfather-father-son retention as a pure function of backup times, so the kept set can be
// tested exactly. A day, an ISO week and a month are each represented by the NEWEST backup within
// it: the most recent state of that period, and the same choice whether the period is over or not.

/** How many periods of each kind keep a backup. */
export interface RetentionPolicy {
  /** The last N UTC days that have backups keep their newest one. @default 7 */
  daily: number;
  /** The last N ISO weeks (Monday–Sunday, UTC) that have backups keep their newest one. @default 4 */
  weekly: number;
  /** The last N UTC calendar months that have backups keep their newest one. @default 6 */
  monthly: number;
}

export const defaultPolicy: RetentionPolicy = { daily: 7, weekly: 4, monthly: 6 };

/** A backup the policy may keep: its id and the UTC time the id names. */
export interface DatedBackup {
  id: string;
  time: Date;
}

/** `2026-11-25`: the UTC day. */
export const dayOf = (time: Date): string => time.toISOString().slice(0, 10);

/** `2026-11`: the UTC month. */
export const monthOf = (time: Date): string => time.toISOString().slice(0, 7);

/** `2026-W48`: the ISO 8601 week (weeks start on Monday; week 1 holds the year's first Thursday). */
export const isoWeekOf = (time: Date): string => {
  const day = new Date(Date.UTC(time.getUTCFullYear(), time.getUTCMonth(), time.getUTCDate()));
  const weekday = day.getUTCDay() || 7;
  day.setUTCDate(day.getUTCDate() + 4 - weekday); // the Thursday of this week decides its year
  const yearStart = Date.UTC(day.getUTCFullYear(), 0, 1);
  const week = Math.ceil(((day.getTime() - yearStart) / 86_400_000 + 1) / 7);
  return `${day.getUTCFullYear()}-W${String(week).padStart(2, '0')}`;
};

const periods = [
  { kind: 'daily', of: dayOf },
  { kind: 'weekly', of: isoWeekOf },
  { kind: 'monthly', of: monthOf },
] as const;

/**
 * The backups the policy keeps, each with its reasons (`daily 2026-11-25`, `weekly 2026-W48`,
 * `monthly 2026-11`, `newest`). The newest backup is always kept, whatever the counts say.
 */
export const selectRetained = (backups: readonly DatedBackup[], policy: RetentionPolicy): Map<string, string[]> => {
  const newestFirst = [...backups].sort((a, b) => b.time.getTime() - a.time.getTime() || b.id.localeCompare(a.id));
  const kept = new Map<string, string[]>();
  const keep = (id: string, reason: string) => kept.set(id, [...(kept.get(id) ?? []), reason]);
  if (newestFirst[0]) keep(newestFirst[0].id, 'newest');
  for (const { kind, of } of periods) {
    const seen = new Set<string>();
    for (const backup of newestFirst) {
      const period = of(backup.time);
      if (seen.has(period)) continue;
      seen.add(period);
      if (seen.size > policy[kind]) break;
      keep(backup.id, `${kind} ${period}`);
    }
  }
  return kept;
};

const addDays = (time: Date, days: number) => new Date(time.getTime() + days * 86_400_000);

/**
 * Periods the policy promises a backup for but that have none: the last `daily` days, `weekly`
 * weeks and `monthly` months counted back from the newest backup's, stopping at the oldest
 * backup's (a young destination is not missing the months before it existed).
 */
export const findGaps = (backups: readonly DatedBackup[], policy: RetentionPolicy): string[] => {
  if (!backups.length) return [];
  const times = backups.map((backup) => backup.time.getTime());
  const newest = new Date(Math.max(...times));
  const oldest = new Date(Math.min(...times));
  const gaps: string[] = [];
  const check = (kind: string, of: (time: Date) => string, count: number, step: (time: Date, index: number) => Date) => {
    const present = new Set(backups.map((backup) => of(backup.time)));
    const oldestPeriod = of(oldest);
    for (let index = 0; index < count; index++) {
      const when = step(newest, index);
      const period = of(when);
      if (when < oldest && period !== oldestPeriod) break;
      if (!present.has(period)) gaps.push(`${kind} ${period}`);
    }
  };
  check('daily', dayOf, policy.daily, (time, index) => addDays(time, -index));
  check('weekly', isoWeekOf, policy.weekly, (time, index) => addDays(time, -7 * index));
  check('monthly', monthOf, policy.monthly, (time, index) => new Date(Date.UTC(time.getUTCFullYear(), time.getUTCMonth() - index, 1)));
  return gaps;
};
