// The built CLI as the end-to-end tests drive it: one real `node bin/runbook.js` process per call.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repository = fileURLToPath(new URL('../..', import.meta.url));
export const cli = join(repository, 'bin', 'runbook.js');

export interface CliOutcome {
  code: number | null;
  stdout: string;
  stderr: string;
  /** stdout and stderr as they arrived, interleaved. */
  output: string;
}

/**
 * Runs `runbook ARGS…` to its end without blocking the event loop, so servers living in the test
 * process (a recording webhook, say) keep answering meanwhile.
 */
export const runCli = (args: readonly string[], env: NodeJS.ProcessEnv, cwd = repository): Promise<CliOutcome> =>
  new Promise((done, reject) => {
    const child = spawn(process.execPath, [cli, ...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const outcome: CliOutcome = { code: null, stdout: '', stderr: '', output: '' };
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => ((outcome.stdout += chunk), (outcome.output += chunk)));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => ((outcome.stderr += chunk), (outcome.output += chunk)));
    child.on('error', reject);
    child.on('close', (code) => done({ ...outcome, code }));
  });
