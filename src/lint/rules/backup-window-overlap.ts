// Backups that run at the same time compete for disk, network and the database; the schedule is
// staggered on purpose, and this keeps it so. A backup without `window` is taken to run 30 minutes.
import { CronError, describeWeekMinute, durationMinutes, occupiedMinutes, parseCron } from '../cron.js';
import { positionOf } from '../../runbook/load.js';
import type { LoadedRunbook } from '../../runbook/project.js';
import type { Rule } from '../rule.js';

/** The window assumed for a backup that declares none. */
export const defaultWindowMinutes = 30;

interface Overlap {
  other: LoadedRunbook;
  minute: number;
}

const windowOf = (loaded: LoadedRunbook) => (loaded.runbook?.window ? durationMinutes(loaded.runbook.window) : defaultWindowMinutes);

/** For each backup runbook, the earlier ones (in lint order) its window overlaps, computed once per run. */
const overlapsOf = (all: readonly LoadedRunbook[]): Map<LoadedRunbook, Overlap[]> => {
  const owner = new Int32Array(7 * 24 * 60).fill(-1);
  const found = new Map<LoadedRunbook, Overlap[]>();
  all.forEach((loaded, index) => {
    const runbook = loaded.runbook;
    if (runbook?.kind !== 'backup' || !runbook.schedule) return;
    let occupied: Uint8Array;
    try {
      occupied = occupiedMinutes(parseCron(runbook.schedule), windowOf(loaded));
    } catch (error) {
      if (error instanceof CronError) return; // the schedule rule reports it
      throw error;
    }
    const overlaps: Overlap[] = [];
    for (let minute = 0; minute < occupied.length; minute++) {
      if (!occupied[minute]) continue;
      const previous = owner[minute]!;
      if (previous < 0) owner[minute] = index;
      else if (!overlaps.some((o) => o.other === all[previous])) overlaps.push({ other: all[previous]!, minute });
    }
    if (overlaps.length > 0) found.set(loaded, overlaps);
  });
  return found;
};

const cache = new WeakMap<readonly LoadedRunbook[], Map<LoadedRunbook, Overlap[]>>();

export const backupWindowOverlap: Rule = {
  id: 'backup-window-overlap',
  severity: 'error',
  description: 'Windows (schedule + window, default 30m) of backup runbooks must not overlap.',
  check: ({ loaded, all, runbook, report }) => {
    if (!cache.has(all)) cache.set(all, overlapsOf(all));
    for (const { other, minute } of cache.get(all)!.get(loaded) ?? []) {
      const theirs = other.runbook!;
      const { line, col } = positionOf(other.source, ['schedule']);
      const mine = `'${runbook.schedule}' for ${runbook.window ?? `${defaultWindowMinutes}m (default)`}`;
      const their = `'${theirs.schedule}' for ${theirs.window ?? `${defaultWindowMinutes}m (default)`}`;
      report({
        path: ['schedule'],
        message: `backup window ${mine} overlaps backup '${theirs.name}' (${their}, ${other.source.file}:${line}:${col}) at ${describeWeekMinute(minute)} UTC`,
      });
    }
  },
};
