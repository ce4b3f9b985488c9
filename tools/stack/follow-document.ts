// Following a generated document by hand, as a person would: every ```bash block of the runbook's
// document in order, pasted into one strict bash (sh blocks are the ones a reader adapts first and
// are left out), skipping the steps the document marks as skipped here.
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { resolvePlan } from '../../src/engine/resolve.js';
import { decideWhen, renderDocs } from '../../src/report/docs.js';
import { repository } from './repository.js';

/**
 * The shell a reader pastes from a document: every ```bash block in order, except those of steps
 * whose `when` is false here (the document says "skip this step" for them; decideWhen is how it knows).
 */
export const followDocument = (
  file: string,
  environment: string,
  env: Record<string, string | undefined>,
): { script: string; skipped: string[] } => {
  const options = { env: environment, processEnv: env };
  const markdown = renderDocs([join(repository, file)], options);
  const plan = resolvePlan(join(repository, file), options);
  const blocks: string[] = [];
  const skipped: string[] = [];
  let skipping = false;
  let fence: { ticks: string; lines: string[] } | undefined;
  for (const line of markdown.split('\n')) {
    if (fence) {
      if (line === fence.ticks) {
        if (!skipping) blocks.push(fence.lines.join('\n'));
        fence = undefined;
      } else fence.lines.push(line);
      continue;
    }
    const opening = /^(`{3,})bash$/.exec(line);
    if (opening) fence = { ticks: opening[1]!, lines: [] };
    else if (line.startsWith('## ')) skipping = false;
    else if (line.startsWith('### ')) {
      const number = /^### (C?)(\d+)\. /.exec(line);
      const step = number ? (number[1] ? plan.cleanup : plan.steps)[Number(number[2]) - 1] : undefined;
      if (!step) throw new Error(`${file}: heading "${line}" matches no step of the plan`);
      skipping = decideWhen(plan, step, env) === false;
      if (skipping) skipped.push(step.id);
    }
  }
  if (fence) throw new Error(`${file}: a bash block is not closed`);
  return { script: blocks.join('\n'), skipped };
};

/**
 * The environment a reader's shell has: the stack's server runs the single executable as `runbook`
 * on its PATH (RUNBOOK_STACK_EXECUTABLE; a recovery's bootstrap installs it there from the bucket).
 */
const withExecutableOnPath = (env: Record<string, string | undefined>): Record<string, string | undefined> => {
  const executable = env.RUNBOOK_STACK_EXECUTABLE;
  if (!executable) throw new Error('RUNBOOK_STACK_EXECUTABLE is not set: the stack names the executable its documents call');
  return { ...env, PATH: `${dirname(executable)}:${env.PATH ?? process.env.PATH}` };
};

/** Runs a script in one `bash -euo pipefail`, as one pasted session; resolves with its exit code and output. */
export const runBash = (
  scriptFile: string,
  env: Record<string, string | undefined>,
  cwd: string,
): Promise<{ code: number | null; output: string }> =>
  new Promise((done, reject) => {
    // stdin from /dev/null: Debian's bash reads bash.bashrc when stdin is a socket. The document's
    // restore steps ask the tool which backup is trusted: the server's executable, on its PATH.
    const child = spawn('bash', ['-euo', 'pipefail', scriptFile], {
      cwd,
      env: withExecutableOnPath(env),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => done({ code, output }));
  });
