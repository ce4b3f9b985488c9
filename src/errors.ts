// Exit codes travel as errors; only src/cli/index.ts turns them into process.exit.

/** Exit codes of docs/design.md §4. */
export const ExitCode = {
  ok: 0,
  failed: 1,
  usage: 2,
  aborted: 3,
  locked: 4,
  /** An engine bug (EX_SOFTWARE): never a user's mistake nor the machine's state. */
  internal: 70,
  hangup: 129,
  interrupted: 130,
  quit: 131,
  terminated: 143,
} as const;

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/** A user-facing failure: printed as its message (no stack) and exited with `code`. */
export class ExitError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
    this.name = 'ExitError';
  }
}

export const usageError = (message: string) => new ExitError(ExitCode.usage, message);
