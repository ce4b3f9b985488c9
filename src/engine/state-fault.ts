// A write to the state folder that failed (ENOSPC, EROFS, EACCES, EIO…): one message that names the
// folder, the file in it and the errno, for the run's end or a refusal at start. Never a stack trace:
// the state folder is the operator's disk, not a bug.
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, relative } from 'node:path';

/** A failed write under the state folder, carrying the file it concerned. */
export class StateWriteError extends Error {
  readonly code: string;
  constructor(
    readonly path: string,
    override readonly cause: unknown,
  ) {
    super(errnoText(cause));
    this.name = 'StateWriteError';
    this.code = errnoOf(cause) ?? 'EIO';
  }
}

/** The errno name of a system error (`ENOSPC`), if it is one. */
export const errnoOf = (error: unknown): string | undefined => {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' && /^E[A-Z0-9]+$/.test(code) ? code : undefined;
};

/** `ENOSPC, no space left on device` from Node's `ENOSPC: no space left on device, write '…'`. */
export const errnoText = (error: unknown): string => {
  const message = String((error as Error)?.message ?? error);
  const code = errnoOf(error);
  if (!code) return message;
  const text = message.replace(new RegExp(`^${code}: `), '').replace(/, \w+( '.*')?$/s, '');
  return `${code}, ${text}`;
};

/** `cannot write the state folder DIR (FILE): ENOSPC, no space left on device`. */
export const describeStateFault = (stateDir: string, path: string | undefined, error: unknown): string => {
  const cause = error instanceof StateWriteError ? error.cause : error;
  const file = path ?? (error instanceof StateWriteError ? error.path : (error as NodeJS.ErrnoException)?.path);
  const inside = file ? relative(stateDir, file) : '';
  const where = inside && !inside.startsWith('..') ? ` (${inside})` : '';
  return `cannot write the state folder ${stateDir}${where}: ${errnoText(cause)}`;
};

/**
 * `mkdir -p` that reports the errno of the folder it could not create: Node's recursive mkdir says
 * ENOENT for a state folder on a read-only file system, hiding the EROFS.
 */
export const makeDirectories = (path: string, mode = 0o777): void => {
  const missing: string[] = [];
  for (let at = path; !existsSync(at); at = dirname(at)) {
    missing.unshift(at);
    if (dirname(at) === at) break;
  }
  for (const dir of missing) {
    try {
      mkdirSync(dir, { mode });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
};
