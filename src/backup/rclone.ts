// rclone calls from TypeScript go through here: the system rclone, started with execa, its stdout
// returned only once it exited 0, so a failure is never taken for success. The one exception is
// exec's preflight listing (engine/backup-locations.ts), which must run the rclone and environment
// the steps will (AWS_CA_BUNDLE included) and tell its exit codes apart.
import { accessSync, constants } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { withoutNodeModulesBin } from '../shell/path.js';

/** Options of {@link runRclone}. */
export interface RcloneOptions {
  /** Extra environment variables (e.g. `RCLONE_CONFIG_*`), merged over `process.env`. @default none */
  env?: Record<string, string | undefined>;
  /** Text written to rclone's standard input (for `rcat`). @default nothing (stdin closed) */
  input?: string;
}

// Under npx/npm, node_modules/.bin comes first on PATH and may hold an `rclone` shim (rclone.js
// had one, with no binary behind it and flags mangled, `-R` → `--R`): only real system folders count.
const findOnPath = (command: string): string | undefined => {
  for (const folder of withoutNodeModulesBin(process.env.PATH ?? '').split(':')) {
    if (!folder) continue;
    const candidate = join(folder, command);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this folder
    }
  }
  return undefined;
};

let executable: string | undefined;

/** `$RCLONE_EXECUTABLE`, else the system rclone; looked up once per process. */
const rcloneExecutable = (): string => (executable ??= process.env.RCLONE_EXECUTABLE ?? findOnPath('rclone') ?? 'rclone');

/** The environment rclone runs with: rclone 1.60's S3 backend fails outright when AWS_CA_BUNDLE is set. */
export const rcloneEnv = (extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv => {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  delete env.AWS_CA_BUNDLE;
  for (const [key, value] of Object.entries(extra)) if (value === undefined) delete env[key];
  return env;
};

/** A failed rclone call: the exit code (3 = directory not found, 4 = file not found) and its stderr. */
export class RcloneError extends Error {
  constructor(
    readonly exitCode: number | null,
    readonly stderr: string,
    args: readonly string[],
  ) {
    const detail = stderr
      .split('\n')
      .filter((line) => line.trim() && !line.includes('Config file'))
      .slice(-3)
      .join('; ');
    super(`rclone ${args.join(' ')} failed (exit ${exitCode ?? 'signal'})${detail ? `: ${detail}` : ''}`);
    this.name = 'RcloneError';
  }
}

/** Runs `rclone ARGS…` and resolves with its stdout once it exited 0; rejects with {@link RcloneError} otherwise. */
export const runRclone = async (args: readonly string[], options: RcloneOptions = {}): Promise<string> => {
  const command = rcloneExecutable();
  const result = await execa(command, args, {
    env: rcloneEnv(options.env),
    extendEnv: false,
    // rclone may exit before reading its input; its exit code says why.
    input: options.input ?? '',
    stripFinalNewline: false,
    maxBuffer: Number.MAX_SAFE_INTEGER,
    reject: false,
  });
  if (result.code === 'ENOENT') throw new Error(`rclone: command not found (${command}); install rclone or set RCLONE_EXECUTABLE`);
  // Not started at all (other than missing): not rclone's failure, so no RcloneError.
  if (result.exitCode === undefined && !result.isTerminated) throw result;
  if (result.exitCode === 0) return result.stdout;
  throw new RcloneError(result.exitCode ?? null, result.stderr, args);
};

/** Joins an rclone destination and a relative path: `remote:bucket` + `x` → `remote:bucket/x`, `remote:` + `x` → `remote:x`. */
export const joinRemote = (dest: string, path: string): string =>
  dest.endsWith(':') || dest.endsWith('/') ? dest + path : `${dest}/${path}`;
