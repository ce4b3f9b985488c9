// The part of a five-field cron expression (UTC) that decides when a job starts within a week:
// minute, hour and day of week. Day of month and month are not expanded: a job that runs on some
// days of the month may run on any weekday, so it counts as running every day for overlap checks.

export interface CronTimes {
  minutes: number[];
  hours: number[];
  /** 0 = Sunday … 6 = Saturday. */
  daysOfWeek: number[];
}

export class CronError extends Error {
  constructor(
    message: string,
    /** Offset of the bad field in the expression. */
    readonly offset: number,
  ) {
    super(message);
  }
}

const dayNames = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
const monthNames = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

const fields = [
  { name: 'minute', min: 0, max: 59, names: [] as string[] },
  { name: 'hour', min: 0, max: 23, names: [] as string[] },
  { name: 'day-of-month', min: 1, max: 31, names: [] as string[] },
  { name: 'month', min: 1, max: 12, names: monthNames },
  { name: 'day-of-week', min: 0, max: 7, names: dayNames },
];

const expandField = (text: string, field: (typeof fields)[number], offset: number): number[] => {
  const values = new Set<number>();
  const number = (part: string): number => {
    const named = field.names.indexOf(part.toLowerCase());
    if (named >= 0) return named + (field.name === 'month' ? 1 : 0);
    if (!/^\d+$/.test(part)) throw new CronError(`${field.name} field '${text}' is not a number, range, list or step`, offset);
    const value = Number(part);
    if (value < field.min || value > field.max)
      throw new CronError(`${field.name} field '${text}' is out of range ${field.min}-${field.max}`, offset);
    return value;
  };
  for (const item of text.split(',')) {
    const [range, stepText, extra] = item.split('/');
    if (extra !== undefined || range === undefined || range === '')
      throw new CronError(`${field.name} field '${text}' is not a number, range, list or step`, offset);
    const step = stepText === undefined ? 1 : /^[1-9]\d*$/.test(stepText) ? Number(stepText) : NaN;
    if (Number.isNaN(step)) throw new CronError(`${field.name} field '${text}' has an invalid step '${stepText}'`, offset);
    let low: number;
    let high: number;
    if (range === '*') [low, high] = [field.min, field.max];
    else if (range.includes('-')) {
      const [a, b] = range.split('-');
      [low, high] = [number(a ?? ''), number(b ?? '')];
      if (low > high) throw new CronError(`${field.name} field '${text}' has a range that runs backwards`, offset);
    } else {
      low = number(range);
      high = stepText === undefined ? low : field.max;
    }
    for (let v = low; v <= high; v += step) values.add(v);
  }
  return [...values].sort((a, b) => a - b);
};

/** Parses `m h dom mon dow`; throws CronError naming the bad field. */
export const parseCron = (expression: string): CronTimes => {
  const parts: { text: string; offset: number }[] = [];
  for (const match of expression.matchAll(/\S+/g)) parts.push({ text: match[0], offset: match.index });
  if (parts.length !== 5) throw new CronError(`expected 5 fields (minute hour day-of-month month day-of-week), got ${parts.length}`, 0);
  const [minutes, hours, , , days] = parts.map((part, i) => expandField(part.text, fields[i]!, part.offset));
  // Day of month and month are validated above but deliberately not used (see the file comment).
  return { minutes: minutes!, hours: hours!, daysOfWeek: [...new Set(days!.map((d) => d % 7))].sort() };
};

const minutesPerWeek = 7 * 24 * 60;

/** Minutes of the week (0 = Sunday 00:00 UTC) a job occupies, as a bitmap. */
export const occupiedMinutes = (times: CronTimes, windowMinutes: number): Uint8Array => {
  const occupied = new Uint8Array(minutesPerWeek);
  const length = Math.min(Math.max(windowMinutes, 1), minutesPerWeek);
  for (const day of times.daysOfWeek) {
    for (const hour of times.hours) {
      for (const minute of times.minutes) {
        const start = day * 1440 + hour * 60 + minute;
        // A window past midnight (or past Saturday) wraps into the next day (or Sunday).
        for (let m = 0; m < length; m++) occupied[(start + m) % minutesPerWeek] = 1;
      }
    }
  }
  return occupied;
};

/** `Mon 02:15` for a minute of the week. */
export const describeWeekMinute = (minute: number): string => {
  const day = Math.floor(minute / 1440);
  const hh = String(Math.floor((minute % 1440) / 60)).padStart(2, '0');
  const mm = String(minute % 60).padStart(2, '0');
  return `${dayNames[day]!.charAt(0).toUpperCase()}${dayNames[day]!.slice(1)} ${hh}:${mm}`;
};

/** Whole minutes of a duration like `30s`, `10m`, `2h` (rounded up). */
export const durationMinutes = (duration: string): number => {
  const match = /^(\d+)(ms|s|m|h|d)$/.exec(duration);
  if (!match) return NaN;
  const ms = Number(match[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[match[2] as 'ms' | 's' | 'm' | 'h' | 'd'];
  return Math.ceil(ms / 60_000);
};
