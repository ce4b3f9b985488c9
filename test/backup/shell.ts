// Runs an action's expanded shell the way `runbook exec` does (bash -euo pipefail, RUNBOOK_* set,
// the package's bin/ on PATH, and
// node_modules/.bin off it: rclone.js's shim there would shadow the system rclone), without the engine: the text is the product, so the text is tested.
import { spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findSystemBinary, systemPath } from '../../tools/stack/run.js';
import type { Expansion } from '../../src/actions/action.js';
import { scriptFor } from '../../src/actions/library.js';

const binDir = fileURLToPath(new URL('../../bin', import.meta.url));

/** What a finished shell printed and its exit code. */
export interface ShellResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Fails loudly (never skips) when a binary the actions call is missing. */
export const requireBinaries = (...names: string[]) => {
  for (const name of names) findSystemBinary(name);
};

/** `bash -euo pipefail -c TEXT`, its shell-library definitions first as exec does, with `env` over the test's environment (AWS_CA_BUNDLE removed for rclone 1.60). */
export const runShell = (text: string, env: Record<string, string> = {}): Promise<ShellResult> =>
  new Promise((resolve, reject) => {
    const merged: NodeJS.ProcessEnv = {
      ...process.env,
      RCLONE_CONFIG: '/dev/null',
      PATH: `${binDir}:${systemPath()}`,
      // What exec exports: the actions call `runbook backups --pick` through it.
      RUNBOOK_BIN: join(binDir, 'runbook.js'),
      ...env,
    };
    delete merged.AWS_CA_BUNDLE;
    const child = spawn('bash', ['-euo', 'pipefail', '-c', scriptFor(text)], { env: merged, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });

/**
 * Runs an expansion's run then its verify, sharing one RUNBOOK_OUTPUT file as the engine does; returns
 * both results and the outputs. `verify: false` runs the run only (a test about what the run did).
 */
export const runStep = async (expansion: Expansion, dir: string, env: Record<string, string> = {}, { verify: withVerify = true } = {}) => {
  const output = join(dir, `output-${Math.random().toString(36).slice(2)}`);
  await writeFile(output, '');
  const stepEnv = {
    RUNBOOK_NAME: 'test',
    RUNBOOK_RUN_ID: 'run-1',
    RUNBOOK_STEP: 'step',
    RUNBOOK_COMMIT: 'abc123',
    RUNBOOK_OUTPUT: output,
    ...env,
  };
  const run = await runShell(expansion.run, stepEnv);
  const verify = run.code === 0 && withVerify ? await runShell(expansion.verify.run, stepEnv) : undefined;
  const outputs = Object.fromEntries(
    (await readFile(output, 'utf8'))
      .split('\n')
      .filter((line) => line.includes('='))
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  );
  return { run, verify, outputs };
};

/** Asserts a shell result succeeded, with its output in the failure message. */
export const expectOk = (result: ShellResult | undefined, what: string) => {
  if (!result) throw new Error(`${what}: did not run`);
  if (result.code !== 0) throw new Error(`${what} exited ${result.code}\n--- stdout\n${result.stdout}\n--- stderr\n${result.stderr}`);
};
