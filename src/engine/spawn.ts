// Runs one shell text under `bash -euo pipefail` in its own process group, so a timeout or an
// interrupt can kill the whole tree (execa would leave grandchildren behind).
import { scriptFor } from '../actions/library.js';
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

export interface ShellOptions {
  text: string;
  env: Record<string, string>;
  cwd?: string;
  /** Kill the process group after this long. */
  timeoutMs?: number;
  /** Between SIGTERM and SIGKILL of the group. @default 5000 */
  graceMs?: number;
  /** Aborting kills the group like a timeout does (used for SIGINT/SIGTERM). */
  signal?: AbortSignal;
  /** Each complete output line (without its newline). */
  onLine?: (stream: 'stdout' | 'stderr', line: string) => void;
  /** Keep at most this many characters of stdout (the tail). @default 65536 */
  maxStdout?: number;
}

export interface ShellResult {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  /** Killed because `signal` aborted. */
  aborted: boolean;
  stdout: string;
  durationMs: number;
}

/** How long output may keep trickling in after bash exited (a daemon it started may hold the pipe). */
export const drainMs = 100;

export const signalGroup = (pid: number, signal: NodeJS.Signals): boolean => {
  try {
    process.kill(-pid, signal);
    return true;
  } catch {
    return false;
  }
};

/** Live (non-zombie) processes of a process group; zombies waiting for a reaper count as gone. */
export const groupMembers = (pgid: number): number[] => {
  const members: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue;
    }
    // Fields after the parenthesised command name: state, ppid, pgrp, …
    const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(pgrp) === pgid && state !== 'Z') members.push(Number(entry));
  }
  return members;
};

/** Whether any live process of the group is left. */
export const groupAlive = (pgid: number): boolean => signalGroup(pgid, 0 as unknown as NodeJS.Signals) && groupMembers(pgid).length > 0;

export const lineSplitter = (emit: (line: string) => void) => {
  let partial = '';
  return {
    push: (chunk: string) => {
      const text = partial + chunk;
      const lines = text.split('\n');
      partial = lines.pop()!;
      for (const line of lines) emit(line);
    },
    flush: () => {
      if (partial) emit(partial);
      partial = '';
    },
  };
};

/**
 * The last `max` characters of `text`, without the line the cut went through: it may begin with
 * the end of a secret, which no masker can recognise any more. A tail without a line break stays
 * whole (the verification output that leaves the engine is far shorter than `max`).
 */
export const keepTail = (text: string, max: number): string => {
  if (text.length <= max) return text;
  const kept = text.slice(-max);
  const lineEnd = kept.indexOf('\n');
  return lineEnd === -1 ? kept : kept.slice(lineEnd + 1);
};

export const runShell = (options: ShellOptions): Promise<ShellResult> =>
  new Promise((resolve) => {
    const started = performance.now();
    const graceMs = options.graceMs ?? 5000;
    const maxStdout = options.maxStdout ?? 65536;
    // The text's shell-library definitions go first: the same bytes `plan` and `docs` print.
    const child = spawn('bash', ['-euo', 'pipefail', '-c', scriptFor(options.text)], {
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: options.env,
      cwd: options.cwd,
    });
    let stdout = '';
    let timedOut = false;
    let aborted = false;
    let killing = false;
    let killedAt: number | undefined;
    let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    let spawnError: Error | undefined;
    const timers: NodeJS.Timeout[] = [];
    const pid = child.pid;

    const out = lineSplitter((line) => options.onLine?.('stdout', line));
    const err = lineSplitter((line) => options.onLine?.('stderr', line));
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      if (stdout.length > maxStdout * 2) stdout = keepTail(stdout, maxStdout);
      out.push(chunk);
    });
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => err.push(chunk));

    let finished = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      for (const timer of timers) clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      child.stdout!.destroy();
      child.stderr!.destroy();
      out.flush();
      err.flush();
      resolve({
        exitCode: spawnError ? 127 : (exit?.code ?? null),
        signal: exit?.signal ?? null,
        timedOut,
        aborted,
        stdout: keepTail(stdout, maxStdout),
        durationMs: performance.now() - started,
      });
    };

    const kill = () => {
      if (killing || pid === undefined) return;
      killing = true;
      signalGroup(pid, 'SIGTERM');
      timers.push(
        setTimeout(() => {
          killedAt = performance.now();
          signalGroup(pid, 'SIGKILL');
        }, graceMs),
      );
    };
    const onAbort = () => {
      aborted = true;
      kill();
    };

    if (options.timeoutMs !== undefined) {
      timers.push(
        setTimeout(() => {
          timedOut = true;
          kill();
        }, options.timeoutMs),
      );
    }
    if (options.signal?.aborted) onAbort();
    else options.signal?.addEventListener('abort', onAbort, { once: true });

    child.on('error', (error) => {
      spawnError = error;
      finish();
    });
    child.on('exit', (code, signal) => {
      exit = { code, signal };
      if (killing) {
        // Members that ignored SIGTERM still hold the group; the SIGKILL timer ends them.
        waitGroupGone();
        return;
      }
      timers.push(setTimeout(finish, drainMs));
    });
    // After a kill, wait until the whole group is gone, not only bash: that is the point of groups.
    // A process stuck in the kernel may outlive SIGKILL for a moment; do not wait for it forever.
    const waitGroupGone = () => {
      if (pid === undefined || !groupAlive(pid) || (killedAt !== undefined && performance.now() - killedAt > 10_000)) finish();
      else timers.push(setTimeout(waitGroupGone, 25));
    };
    child.on('close', () => {
      if (exit && !killing) finish();
    });
  });
