// Durations are strings like 30s, 10m, 2h (the schema checks the form).

const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Milliseconds of a duration string; undefined for undefined. */
export const parseDuration = (text: string | undefined): number | undefined => {
  if (text === undefined) return undefined;
  const match = /^(\d+)(ms|s|m|h|d)$/.exec(text.trim());
  if (!match) throw new Error(`'${text}' is not a duration like 30s, 10m or 2h`);
  return Number(match[1]) * units[match[2]!]!;
};

/** `1h 02m 03s`-style text for people. */
export const formatDuration = (ms: number): string => {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const s = Math.round(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = s % 60;
  if (h) return `${h}h ${String(m).padStart(2, '0')}m ${String(rest).padStart(2, '0')}s`;
  if (m) return `${m}m ${String(rest).padStart(2, '0')}s`;
  return `${rest}s`;
};
