// The processes of a run, read from /proc: a step leads its own process group, so killing an engine
// the way a power cut would means killing its children's groups too.
import { readdirSync, readFileSync } from 'node:fs';

/** The direct children of PID. */
export const childrenOf = (pid: number): number[] =>
  readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((entry) => {
      try {
        const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid;
      } catch {
        return false;
      }
    })
    .map(Number);
