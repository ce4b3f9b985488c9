// The built CLI as every test drives it: one real `node bin/runbook.js` process per call, so a test
// sees the exit codes, output and signals a user would, and the event loop stays free meanwhile.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { systemPath } from '../../tools/stack/run.js';

export const repository = fileURLToPath(new URL('../..', import.meta.url));
export const cli = join(repository, 'bin', 'runbook.js');

/** `npm test` builds first; rebuilding here would rewrite dist/ under tests running in parallel. */
export const expectBuilt = (module = 'cli/exec.js') => {
  expect(existsSync(join(repository, 'dist', module)), 'run `npm run build` first').toBe(true);
};

/** The environment of a CLI run: system PATH (no node_modules/.bin shims), no AWS_CA_BUNDLE (rclone 1.60). */
export const cliEnv = (extra: Record<string, string> = {}): NodeJS.ProcessEnv => {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PATH: systemPath(),
    NO_COLOR: '1',
    RUNBOOK_KILL_GRACE_MS: '500',
    RCLONE_CONFIG: '/dev/null',
    ...extra,
  };
  delete env.AWS_CA_BUNDLE;
  return env;
};

/** Options of {@link runCli} and {@link startCli}. */
export interface CliOptions {
  /** Working folder of the run. @default the repository */
  cwd?: string;
  /** The whole environment of the run (not added to anything). @default cliEnv() */
  env?: NodeJS.ProcessEnv;
}

/** Options of {@link runCli}. */
export interface RunCliOptions extends CliOptions {
  /**
   * SIGTERM the run after this long: longer than any test's own timeout, so it never decides an
   * outcome, only reaps a hung CLI that the test gave up on. @default 600_000
   */
  timeoutMs?: number;
}

/** A finished run. */
export interface CliOutcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** stdout and stderr as they arrived, interleaved. */
  output: string;
}

/**
 * Runs `runbook ARGS…` to its end without blocking the event loop, so servers living in the test
 * process (a recording webhook, say) keep answering meanwhile.
 */
export const runCli = (
  args: readonly string[],
  { cwd = repository, env = cliEnv(), timeoutMs = 600_000 }: RunCliOptions = {},
): Promise<CliOutcome> =>
  new Promise((done, reject) => {
    const child = spawn(process.execPath, [cli, ...args], { cwd, env, timeout: timeoutMs, stdio: ['ignore', 'pipe', 'pipe'] });
    const outcome = { stdout: '', stderr: '', output: '' };
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => ((outcome.stdout += chunk), (outcome.output += chunk)));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => ((outcome.stderr += chunk), (outcome.output += chunk)));
    child.on('error', reject);
    child.on('close', (code, signal) => done({ ...outcome, code, signal }));
  });

/** Starts `runbook ARGS…` and hands back the child (to signal it mid-run) with what it printed so far. */
export const startCli = (
  args: readonly string[],
  { cwd = repository, env = cliEnv() }: CliOptions = {},
): ChildProcess & { output: () => { stdout: string; stderr: string } } => {
  const child = spawn(process.execPath, [cli, ...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return Object.assign(child, { output: () => ({ stdout, stderr }) });
};

/** Resolves once `child` has exited (at once if it already has). */
export const exited = (child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> =>
  new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve({ code: child.exitCode, signal: child.signalCode });
    else child.once('exit', (code, signal) => resolve({ code, signal }));
  });
