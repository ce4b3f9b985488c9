// Every server PID started by this harness, so an interrupted run can still kill them all.

const live = new Map<number, string>();
let exitHandlerInstalled = false;

/**
 * Records a running server's PID (with a label for messages). The first call installs an `exit`
 * handler that kills whatever is still tracked: a script or test that forgets stop() leaves no
 * server behind when it ends normally (a stack also handles SIGINT/SIGTERM, see stack.ts).
 */
export const trackPid = (pid: number, label: string): void => {
  if (!exitHandlerInstalled) {
    process.on('exit', () => void killTrackedPidsSync());
    exitHandlerInstalled = true;
  }
  live.set(pid, label);
};

/** Forgets a PID once its server is stopped. */
export const untrackPid = (pid: number): void => {
  live.delete(pid);
};

/** The PIDs still running, with their labels. */
export const trackedPids = (): ReadonlyMap<number, string> => live;

/**
 * SIGKILLs every tracked PID synchronously — the only thing an `exit` handler can still do.
 * Returns the PIDs it signalled.
 */
export const killTrackedPidsSync = (): number[] => {
  const killed: number[] = [];
  for (const pid of live.keys()) {
    try {
      process.kill(pid, 'SIGKILL');
      killed.push(pid);
    } catch {
      // already gone
    }
  }
  live.clear();
  return killed;
};
