// Durations are strings like 30s, 10m, 2h (the schema checks the form).

const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Milliseconds of a duration string; undefined for undefined. */
export const parseDuration = (text: string | undefined): number | undefined => {
  if (text === undefined) return undefined;
  const match = /^(\d+)(ms|s|m|h|d)$/.exec(text.trim());
  if (!match) throw new Error(`'${text}' is not a duration like 30s, 10m or 2h`);
  return Number(match[1]) * units[match[2]!]!;
};

/** How {@link formatDuration} writes a duration. */
export interface FormatDurationOptions {
  /**
   * `long`: `1h 02m 03s`, `4m 05s`, `7s`, `350ms` (plans, reports, docs). `compact`: `1h02m`,
   * `4m05s`, `7s` (table cells). `seconds`: `7.3s`, one decimal (run logs and notifications).
   * @default 'long'
   */
  style?: 'long' | 'compact' | 'seconds';
}

/** A duration in milliseconds as text for people: the one formatter of the project. */
export const formatDuration = (ms: number, options: FormatDurationOptions = {}): string => {
  const style = options.style ?? 'long';
  if (style === 'seconds') return `${(ms / 1000).toFixed(1)}s`;
  if (style === 'long' && ms < 1000) return `${Math.round(ms)}ms`;
  const s = Math.round(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = s % 60;
  const two = (n: number) => String(n).padStart(2, '0');
  if (style === 'compact') return s < 60 ? `${s}s` : s < 3600 ? `${m}m${two(rest)}s` : `${h}h${two(m)}m`;
  if (h) return `${h}h ${two(m)}m ${two(rest)}s`;
  if (m) return `${m}m ${two(rest)}s`;
  return `${rest}s`;
};
