// Steps run in their own process groups, so a SIGKILL of the engine itself leaves the running
// step's processes alive (re-parented to init). Every step process inherits RUNBOOK_RUN_ID, so the
// next run of that run id (a --resume), or the run taking over its stale lock, finds them in
// /proc and ends them before anything runs: a crashed attempt never finishes behind a new one.
import { readdirSync, readFileSync } from 'node:fs';
import { signalGroup } from './spawn.js';

export interface OrphanGroup {
  /** RUNBOOK_STEP of its processes. */
  step: string;
  pgid: number;
  pids: number[];
}

interface Found {
  pid: number;
  pgid: number;
  step: string;
}

const statOf = (pid: number): { state: string; pgid: number } | undefined => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { state: state!, pgid: Number(pgrp) };
  } catch {
    return undefined;
  }
};

/** Live processes (not this one) whose environment says they belong to run `runId`. */
const processesOfRun = (runId: string): Found[] => {
  const marker = `RUNBOOK_RUN_ID=${runId}`;
  const found: Found[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    let environ: string[];
    try {
      environ = readFileSync(`/proc/${entry}/environ`, 'utf8').split('\0');
    } catch {
      continue; // gone, or not ours to read
    }
    if (!environ.includes(marker)) continue;
    const stat = statOf(Number(entry));
    if (!stat || stat.state === 'Z') continue;
    const step = environ.find((item) => item.startsWith('RUNBOOK_STEP='))?.slice('RUNBOOK_STEP='.length) ?? '?';
    found.push({ pid: Number(entry), pgid: stat.pgid, step });
  }
  return found;
};

/** The step processes of run `runId` still alive, by process group. */
export const findOrphans = (runId: string): OrphanGroup[] => {
  const groups = new Map<number, OrphanGroup>();
  for (const { pid, pgid, step } of processesOfRun(runId)) {
    const group = groups.get(pgid) ?? { step, pgid, pids: [] };
    group.pids.push(pid);
    groups.set(pgid, group);
  }
  return [...groups.values()];
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const signalAll = (groups: readonly OrphanGroup[], signal: NodeJS.Signals) => {
  for (const group of groups) {
    signalGroup(group.pgid, signal);
    // A member that left the group (setsid) is still signalled by PID.
    for (const pid of group.pids) {
      try {
        process.kill(pid, signal);
      } catch {
        // already gone
      }
    }
  }
};

/** SIGTERM the orphans of `runId`, SIGKILL what is left after `graceMs`; resolves once none is left (or 5 s later). */
export const endOrphans = async (runId: string, groups: readonly OrphanGroup[], graceMs: number): Promise<void> => {
  signalAll(groups, 'SIGTERM');
  const termUntil = Date.now() + graceMs;
  while (processesOfRun(runId).length > 0 && Date.now() < termUntil) await sleep(20);
  const left = findOrphans(runId);
  if (left.length === 0) return;
  signalAll(left, 'SIGKILL');
  const killUntil = Date.now() + 5000;
  while (processesOfRun(runId).length > 0 && Date.now() < killUntil) await sleep(20);
};
