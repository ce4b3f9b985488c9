// rclone.js spawns the rclone binary but resolves its promises when stdout ends, whatever the exit
// code; every rclone call from TypeScript goes through here so a failure is never taken for success.
import { accessSync, constants } from 'node:fs';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { withoutNodeModulesBin } from '../shell/path.js';

/** Options of {@link runRclone}. */
export interface RcloneOptions {
  /** Extra environment variables (e.g. `RCLONE_CONFIG_*`), merged over `process.env`. @default none */
  env?: Record<string, string | undefined>;
  /** Text written to rclone's standard input (for `rcat`). @default nothing (stdin closed) */
  input?: string;
}

type RcloneApi = (...args: unknown[]) => ChildProcess;

// Under npx/npm, node_modules/.bin comes first on PATH and holds rclone.js's shim, which has no
// binary behind it here and mangles flags (`-R` → `--R`): only real system folders count.
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

let loaded: Promise<RcloneApi> | undefined;

// rclone.js reads RCLONE_EXECUTABLE once, when it is first loaded, and defaults to its own bin/
// folder, which stays empty here (its install script is disabled): point it at the system rclone.
const loadRclone = (): Promise<RcloneApi> =>
  (loaded ??= (async () => {
    process.env.RCLONE_EXECUTABLE ??= findOnPath('rclone') ?? 'rclone';
    const module = (await import('rclone.js')) as unknown as { default: RcloneApi };
    return module.default;
  })());

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
  const rclone = await loadRclone();
  return new Promise((resolve, reject) => {
    const child = rclone(...args, { env: rcloneEnv(options.env), stdio: ['pipe', 'pipe', 'pipe'] });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout!.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr!.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        error.code === 'ENOENT'
          ? new Error(`rclone: command not found (${process.env.RCLONE_EXECUTABLE}); install rclone or set RCLONE_EXECUTABLE`)
          : error,
      ),
    );
    child.once('close', (code) => {
      if (code === 0) resolve(Buffer.concat(stdout).toString('utf8'));
      else reject(new RcloneError(code, Buffer.concat(stderr).toString('utf8'), args));
    });
    child.stdin!.on('error', () => {}); // rclone may exit before reading its input; its exit code says why
    child.stdin!.end(options.input ?? '');
  });
};

/** Joins an rclone destination and a relative path: `remote:bucket` + `x` → `remote:bucket/x`, `remote:` + `x` → `remote:x`. */
export const joinRemote = (dest: string, path: string): string =>
  dest.endsWith(':') || dest.endsWith('/') ? dest + path : `${dest}/${path}`;
