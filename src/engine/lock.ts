// One run at a time per state dir and runbook: a lock file created with O_EXCL. A lock left by a
// dead process on this host is taken over; one from another host is never broken automatically.
import { writeFileSync, closeSync, openSync, readFileSync, unlinkSync, writeSync, fsyncSync, constants } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { ExitCode, ExitError } from '../errors.js';
import { makePrivateDir, privateFile } from './state-dir.js';

export interface LockInfo {
  pid: number;
  host: string;
  startedAt: string;
  runId: string;
}

export interface HeldLock {
  path: string;
  info: LockInfo;
  /** Set when a stale lock was taken over. */
  tookOver?: LockInfo;
  /** Records the run id once known (a resumed run keeps its old one). */
  setRunId: (runId: string) => void;
  release: () => void;
}

export const lockPath = (stateDir: string, runbook: string): string => join(stateDir, 'locks', `${runbook}.lock`);

const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
};

const readLock = (path: string): LockInfo | undefined => {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as LockInfo;
  } catch {
    return undefined;
  }
};

const tryCreate = (path: string, info: LockInfo): boolean => {
  let fd: number;
  try {
    fd = openSync(path, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY, privateFile);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
  try {
    writeSync(fd, JSON.stringify(info) + '\n');
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return true;
};

/** Takes the lock of `runbook` in `stateDir`, or throws ExitError(4) naming its holder. */
export const acquireLock = (stateDir: string, runbook: string, runId: string, host = hostname()): HeldLock => {
  const path = lockPath(stateDir, runbook);
  makePrivateDir(join(stateDir, 'locks'));
  const info: LockInfo = { pid: process.pid, host, startedAt: new Date().toISOString(), runId };
  let tookOver: LockInfo | undefined;
  if (!tryCreate(path, info)) {
    const holder = readLock(path);
    const describe = holder
      ? `pid ${holder.pid} on host ${holder.host}, started ${holder.startedAt} (run ${holder.runId})`
      : 'an unreadable lock file';
    if (!holder || holder.host !== host || isAlive(holder.pid)) {
      const hint =
        holder && holder.host !== host
          ? '; it was taken on another host, so it is never broken automatically: remove it by hand once that run is gone'
          : '';
      throw new ExitError(ExitCode.locked, `runbook '${runbook}' is locked by ${describe}: ${path}${hint}`);
    }
    // The holder died on this host: its lock is stale.
    unlinkSync(path);
    if (!tryCreate(path, info))
      throw new ExitError(ExitCode.locked, `runbook '${runbook}' was locked by another run while taking over a stale lock: ${path}`);
    tookOver = holder;
  }
  return {
    path,
    info,
    tookOver,
    setRunId: (runId) => {
      info.runId = runId;
      writeFileSync(path, JSON.stringify(info) + '\n');
    },
    release: () => {
      if (readLock(path)?.pid === process.pid) unlinkSync(path);
    },
  };
};
