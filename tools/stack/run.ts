// One place that runs a command and collects its output, so every server module fails the same way.
import { spawn } from 'node:child_process';
import { accessSync, constants, readFileSync } from 'node:fs';
import { withoutNodeModulesBin } from '../../src/shell/path.js';

/** Options of {@link runCommand}. */
export interface RunOptions {
  /** Text written to the command's standard input. @default nothing (stdin closed) */
  input?: string | Buffer;
  /** Extra environment variables, merged over `process.env` (a value of `undefined` removes one). */
  env?: Record<string, string | undefined>;
  /** Working directory. @default the current one */
  cwd?: string;
  /** Kill the command after this many milliseconds. @default 120000 */
  timeoutMs?: number;
}

/** What a finished command printed. */
export interface RunResult {
  stdout: string;
  stderr: string;
}

const mergeEnv = (extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv => {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const [key, value] of Object.entries(extra)) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  return env;
};

/**
 * Runs `command args…` without a shell and resolves with its output; rejects with an Error naming
 * the command, its exit status and its stderr when it exits non-zero, or with an install hint when
 * the binary does not exist.
 */
export const runCommand = (command: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> =>
  new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: mergeEnv(options.env),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
    child.once('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(error.code === 'ENOENT' ? new Error(`${command}: command not found`) : error);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      const result = { stdout: Buffer.concat(stdout).toString('utf8'), stderr: Buffer.concat(stderr).toString('utf8') };
      if (code === 0) return resolve(result);
      const status = signal ? `signal ${signal}` : `exit ${code}`;
      const detail = result.stderr.trim() || result.stdout.trim();
      reject(new Error(`${[command, ...args].join(' ')} failed (${status})${detail ? `: ${detail}` : ''}`));
    });
    child.stdin.on('error', () => {}); // a command that exits without reading its stdin is not an error here
    child.stdin.end(options.input ?? '');
  });

/** True when `pid` has exited but its parent has not reaped it yet. */
const isZombie = (pid: number): boolean => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z';
  } catch {
    return false;
  }
};

/** True when a process with this PID runs (signal 0 probes without sending anything; a zombie counts as gone). */
export const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  return !isZombie(pid);
};

/** Resolves once `pid` is gone, or with false after `timeoutMs`. */
export const waitForExit = async (pid: number, timeoutMs = 10_000): Promise<boolean> => {
  const deadline = Date.now() + timeoutMs;
  while (isAlive(pid)) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return true;
};

/** Sends `signal` to `pid`, ignoring a process that is already gone. */
export const signalPid = (pid: number, signal: NodeJS.Signals = 'SIGTERM'): void => {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
};

/** SIGTERM, wait up to `graceMs`, then SIGKILL; resolves once the PID is gone. */
export const terminatePid = async (pid: number, graceMs = 5_000): Promise<void> => {
  signalPid(pid, 'SIGTERM');
  if (await waitForExit(pid, graceMs)) return;
  signalPid(pid, 'SIGKILL');
  await waitForExit(pid, 5_000);
};

/** Numeric uid and gid of a system user, e.g. `postgres` or `bind`. */
export const userIds = async (user: string): Promise<{ uid: number; gid: number }> => {
  const [uid, gid] = await Promise.all([runCommand('id', ['-u', user]), runCommand('id', ['-g', user])]);
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
};

/** `PATH` without `node_modules/.bin` folders, as steps get it (src/shell/path.ts says why). */
export const systemPath = (path = process.env.PATH ?? ''): string => withoutNodeModulesBin(path);

/** Absolute path of a system command found on {@link systemPath}, or an Error naming the package to install. */
export const findSystemBinary = (name: string, debianPackage = name): string => {
  for (const folder of systemPath().split(':')) {
    const candidate = `${folder}/${name}`;
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  throw new Error(`${name} not found on PATH: install the Debian package ${debianPackage} (apt-get install ${debianPackage})`);
};
