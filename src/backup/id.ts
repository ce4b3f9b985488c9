// Backup folders are named for their start time in UTC (Contract: DEST/YYYY-MM-DDTHHMMSSZ/), so
// the name alone orders them and dates them, whatever the storage says about modification times.

/** The folder-name form of a backup id, e.g. `2026-11-25T020000Z`. */
export const backupIdPattern = /^(\d{4})-(\d{2})-(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

/** The UTC time a backup id names, or undefined when the name is not a (valid) backup id. */
export const parseBackupId = (id: string): Date | undefined => {
  const match = backupIdPattern.exec(id);
  if (!match) return undefined;
  const [year, month, day, hour, minute, second] = match.slice(1).map(Number) as [number, number, number, number, number, number];
  const time = new Date(Date.UTC(year, month - 1, day, hour, minute, second));
  // Date.UTC rolls 2026-02-30 over into March; such a name is not a timestamp we wrote.
  if (time.getUTCMonth() !== month - 1 || time.getUTCDate() !== day || hour > 23 || minute > 59 || second > 59) return undefined;
  return time;
};

/** The backup id of a time (seconds precision), the same text `date -u +%Y-%m-%dT%H%M%SZ` prints. */
export const formatBackupId = (time: Date): string =>
  time
    .toISOString()
    .replace(/:/g, '')
    .replace(/\.\d{3}Z$/, 'Z');
