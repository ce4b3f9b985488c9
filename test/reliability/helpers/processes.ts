// Real processes in the fault tests: waiting for a condition, reading /proc to find and check
// processes by PID, and starting shell pipelines the way the engine does, to kill one of their parts.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { systemPath } from '../../../tools/stack/run.js';
import { repository } from '../../helpers/cli.js';

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `test` until it returns a value other than undefined/false. */
export const waitUntil = async <T>(
  test: () => T | undefined | false | Promise<T | undefined | false>,
  what: string,
  ms = 30_000,
  every = 20,
): Promise<T> => {
  const until = Date.now() + ms;
  for (;;) {
    const value = await test();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > until) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(every);
  }
};

export interface ProcInfo {
  pid: number;
  ppid: number;
  pgrp: number;
  state: string;
  comm: string;
  argv: string[];
}

/** Every live process from /proc (zombies included, marked by state Z). */
export const processes = (): ProcInfo[] => {
  const list: ProcInfo[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const [state, ppid, pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').filter(Boolean);
      list.push({ pid: Number(entry), ppid: Number(ppid), pgrp: Number(pgrp), state: state!, comm, argv });
    } catch {
      // gone between readdir and read
    }
  }
  return list;
};

/** The live (non-zombie) descendants of `pid`, whatever process group they moved to. */
export const descendants = (pid: number, all = processes()): ProcInfo[] => {
  const found: ProcInfo[] = [];
  const parents = new Set([pid]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const proc of all) {
      if (parents.has(proc.ppid) && !parents.has(proc.pid)) {
        parents.add(proc.pid);
        if (proc.state !== 'Z') found.push(proc);
        grew = true;
      }
    }
  }
  return found;
};

/** Whether a PID names a live (non-zombie) process. */
export const pidAlive = (pid: number): boolean => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
};

/** Every file under `dir`, recursively. */
export const filesUnder = (dir: string): string[] => {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) out.push(...filesUnder(path));
    else out.push(path);
  }
  return out;
};

const binDir = join(repository, 'bin');

export interface StartedShell {
  pid: number;
  result: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
}

/**
 * Runs shell text the way the engine does (`bash -euo pipefail -c`, its own process group), with
 * rclone's environment (`AWS_CA_BUNDLE` unset), and hands back the PID so a test can hunt down
 * one process of the pipeline and kill it.
 */
export const startShell = (text: string, env: Record<string, string> = {}): StartedShell => {
  const merged: NodeJS.ProcessEnv = { ...process.env, RCLONE_CONFIG: '/dev/null', PATH: `${binDir}:${systemPath()}`, ...env };
  delete merged.AWS_CA_BUNDLE;
  const child = spawn('bash', ['-euo', 'pipefail', '-c', text], { env: merged, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const result = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })),
  );
  return { pid: child.pid!, result };
};
