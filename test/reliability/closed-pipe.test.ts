// A reader that closes the pipe early (`runbook … | head -1`) makes the CLI's later writes fail
// with EPIPE. That costs the output nobody reads, nothing else: no stack trace or error text on
// stderr, and the command's own exit code (the one it has with the pipe open), because what it
// did — a run, its journal — does not depend on who reads its output. Each command prints more
// than a pipe holds (64 KiB), so the writes after the close do fail.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, cliEnv, expectBuilt, repository } from '../helpers/cli.js';

const temporary = mkdtempSync(join(tmpdir(), 'runbook-closed-pipe-'));
const manySteps = join(temporary, 'many.yaml');
const findings = join(temporary, 'findings');
const backups = join(temporary, 'backups');
const state = join(temporary, 'state');

/** A runbook of 40 steps of 100 echo lines each: ~300 KiB of plan (few steps: exec's preflight costs per step). */
const writeManySteps = () => {
  const step = (index: number) =>
    `  - id: s${index}\n    run: |\n` +
    Array.from({ length: 100 }, (_, line) => `      echo line ${line} of step ${index}, long enough to fill the pipe quickly\n`).join('') +
    '    verify: test -s /etc/hostname\n';
  writeFileSync(manySteps, `runbook: 1\nname: many\nkind: task\nsteps:\n${Array.from({ length: 40 }, (_, i) => step(i)).join('')}`);
};

/** 400 runbooks, each with a step that has no verification: ~100 KiB of findings. */
const writeFindings = () => {
  mkdirSync(findings);
  for (let i = 0; i < 400; i++)
    writeFileSync(join(findings, `r${i}.yaml`), `runbook: 1\nname: r${i}\nkind: task\nsteps:\n  - id: a\n    run: echo a\n`);
};

/** 1000 backup folders without a manifest (incomplete ones): ~80 KiB of listing. */
const writeBackups = () => {
  for (let i = 0; i < 1000; i++) {
    const time = `${String(Math.floor(i / 3600)).padStart(2, '0')}${String(Math.floor(i / 60) % 60).padStart(2, '0')}${String(i % 60).padStart(2, '0')}`;
    mkdirSync(join(backups, `2026-01-01T${time}Z`), { recursive: true });
  }
};

interface Outcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
  stdout: string;
  closedAfter?: number;
}

const env = () => cliEnv({ RUNBOOK_STATE_DIR: state });
const executable = join(repository, 'build', 'runbook-linux-x64');

/** The npm package's CLI by default; the single executable when `binary` (the same main(), bundled). */
const command = (args: string[], binary = false): [string, string[]] => (binary ? [executable, args] : [process.execPath, [cli, ...args]]);

/** Runs the CLI to its end, reading everything: its own exit code. */
const runOpen = (args: string[], binary = false): Promise<Outcome> =>
  new Promise((resolve, reject) => {
    const child = spawn(...command(args, binary), { cwd: temporary, env: env(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });

/** Runs the CLI and closes its `stream` (stdout or stderr) after the first bytes; reads the other one to the end. */
const runClosing = (args: string[], stream: 'stdout' | 'stderr', binary = false): Promise<Outcome> =>
  new Promise((resolve, reject) => {
    const child = spawn(...command(args, binary), { cwd: temporary, env: env(), stdio: ['ignore', 'pipe', 'pipe'] });
    const kept = stream === 'stdout' ? child.stderr : child.stdout;
    let text = '';
    let closedAfter = 0;
    kept.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
    child[stream].once('data', (chunk: Buffer) => {
      closedAfter = chunk.length;
      child[stream].destroy();
    });
    child.on('error', reject);
    child.on('close', (code, signal) =>
      resolve({ code, signal, closedAfter, stdout: stream === 'stdout' ? '' : text, stderr: stream === 'stdout' ? text : '' }),
    );
  });

const stdoutCommands: [string, string[]][] = [
  ['exec --dry-run (auto)', ['exec', manySteps, '--dry-run', '--allow-dirty']],
  ['exec --dry-run --output plain', ['exec', manySteps, '--dry-run', '--allow-dirty', '--output', 'plain']],
  ['exec --dry-run --output json', ['exec', manySteps, '--dry-run', '--allow-dirty', '--output', 'json']],
  ['plan', ['plan', manySteps]],
  ['plan --format json', ['plan', manySteps, '--format', 'json']],
  ['docs', ['docs', manySteps]],
  ['schema', ['schema']],
  ['lint of a folder with many findings', ['lint', findings, '--no-shellcheck']],
  ['lint --format json', ['lint', findings, '--no-shellcheck', '--format', 'json']],
  ['backups listing', ['backups', backups]],
  ['backups --format json', ['backups', backups, '--format', 'json']],
  ['status', ['status', '--state-dir', state, '--runbooks', temporary, '--report-dir', temporary]],
  ['--help', ['--help']],
];

const noCrashText = /EPIPE|Error|\n\s+at |internal error/;

describe('a reader that closes the pipe early', () => {
  beforeAll(() => {
    expectBuilt('cli/index.js');
    writeManySteps();
    writeFindings();
    writeBackups();
  });

  afterAll(() => rmSync(temporary, { recursive: true, force: true }));

  it.each(stdoutCommands)('%s: stdout closed after the first bytes — no error text, its own exit code', async (_name, args) => {
    const [open, closed] = await Promise.all([runOpen(args), runClosing(args, 'stdout')]);
    expect(closed.stderr).not.toMatch(noCrashText);
    expect(closed.stderr).toBe(open.stderr);
    expect({ code: closed.code, signal: closed.signal }).toEqual({ code: open.code, signal: null });
  });

  it.each(stdoutCommands.slice(0, 6))('the single executable, %s: the same', async (_name, args) => {
    const [open, closed] = await Promise.all([runOpen(args, true), runClosing(args, 'stdout', true)]);
    expect(closed.stderr).not.toMatch(noCrashText);
    expect(closed.stderr).toBe(open.stderr);
    expect({ code: closed.code, signal: closed.signal }).toEqual({ code: open.code, signal: null });
  });

  it('exec of 40 steps with stderr closed after the first line: the run goes on to success, exit 0', async () => {
    const args = ['exec', manySteps, '--yes', '--allow-dirty', '--output', 'plain'];
    const closed = await runClosing(args, 'stderr');
    expect(closed.code).toBe(0);
    const status = await runOpen(['status', '--state-dir', state, '--format', 'json', '--runbooks', temporary, '--report-dir', temporary]);
    expect(status.stdout).toMatch(/"outcome":\s*"success"/);
  });

  it('plan of a missing file with stderr closed: no crash, the same exit code', async () => {
    const args = ['plan', join(temporary, 'missing.yaml')];
    const [open, closed] = await Promise.all([runOpen(args), runClosing(args, 'stderr')]);
    expect({ code: closed.code, signal: closed.signal }).toEqual({ code: open.code, signal: null });
  });
});
