// One run at a time per state dir and runbook: a lock file created with O_EXCL. A lock left by a
// dead process on this host is taken over; one from another host is never broken automatically.
import { closeSync, openSync, readFileSync, renameSync, rmSync, unlinkSync, writeFileSync, writeSync, fsyncSync, constants } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { ExitCode, ExitError } from '../errors.js';
import { describeStateFault } from './state-fault.js';
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
  /** Removes the lock file; why it could not, if it could not (it is then left for a takeover). */
  release: () => string | undefined;
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
  } catch (error) {
    // An empty or half-written lock would refuse every later run as "an unreadable lock file".
    closeSync(fd);
    rmSync(path, { force: true });
    throw error;
  }
  closeSync(fd);
  return true;
};

/** A state folder that cannot take the lock refuses the run before anything ran (exit 2). */
const refuseUnwritable = (stateDir: string, path: string, error: unknown): never => {
  if (error instanceof ExitError) throw error;
  throw new ExitError(ExitCode.usage, `${describeStateFault(stateDir, path, error)}; nothing was run`);
};

/** Takes the lock of `runbook` in `stateDir`, or throws ExitError(4) naming its holder. */
export const acquireLock = (stateDir: string, runbook: string, runId: string, host = hostname()): HeldLock => {
  const path = lockPath(stateDir, runbook);
  try {
    return takeLock(stateDir, path, runbook, runId, host);
  } catch (error) {
    return refuseUnwritable(stateDir, (error as NodeJS.ErrnoException)?.path ?? path, error);
  }
};

const takeLock = (stateDir: string, path: string, runbook: string, runId: string, host: string): HeldLock => {
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
      // Beside it, then renamed: a full disk leaves the old lock whole, never an empty one.
      const next = `${path}.${process.pid}.tmp`;
      try {
        writeFileSync(next, JSON.stringify(info) + '\n');
        renameSync(next, path);
      } catch (error) {
        rmSync(next, { force: true });
        refuseUnwritable(stateDir, path, error);
      }
    },
    release: () => {
      try {
        if (readLock(path)?.pid === process.pid) unlinkSync(path);
        return undefined;
      } catch (error) {
        return describeStateFault(stateDir, path, error);
      }
    },
  };
};
