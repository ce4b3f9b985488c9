// Faults class "the state folder cannot be written" (journal, log, outputs, lock, drill report),
// for real: the state folder on a small tmpfs filled before the run, mid-run by a step's output and
// at the journal record of a step's end; a read-only and a permission-denied state folder. Each
// ends with one line naming the folder and the errno, no stack trace, the step's process group
// ended, cleanup run, the lock released and a documented exit code; `--resume` works afterwards.
// Also the class "any other unexpected exception while a run is going".
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readJournal } from '../../src/engine/journal.js';
import { cliEnv, expectBuilt, runCli, type CliOutcome } from '../helpers/cli.js';
import { pidAlive } from './helpers/processes.js';

const root = mkdtempSync(join(tmpdir(), 'runbook-state-faults-'));
const mounts: string[] = [];
beforeAll(() => expectBuilt(), 120_000);
afterAll(() => {
  for (const dir of mounts) spawnSync('umount', ['-l', dir]);
  rmSync(root, { recursive: true, force: true });
});

/** A fresh tmpfs of `size` (e.g. `1m`) under the test's folder. */
const mountTmpfs = (name: string, options: string): string => {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', dir], { encoding: 'utf8' });
  // Root in this sandbox may mount tmpfs; if that is ever refused, fail loudly rather than skip.
  expect(mounted.status, `mount -t tmpfs refused: ${mounted.stderr}`).toBe(0);
  mounts.push(dir);
  return dir;
};

/** Fills the file system of `dir` to its last byte. */
const fill = (dir: string) => spawnSync('bash', ['-c', `cat /dev/zero > "${dir}/filler" 2>/dev/null; true`]);

const runbook = (name: string, steps: string) => {
  const dir = mkdtempSync(join(root, `${name}-`));
  mkdirSync(join(dir, 'work'));
  writeFileSync(
    join(dir, 'rb.yaml'),
    `runbook: 1
name: ${name}
steps:
${steps}cleanup:
  - id: tidy
    run: |
      rm -f "\${FILL:-/nonexistent}"
      touch "$WORK/tidy"
    verify: test -f "$WORK/tidy"
`,
  );
  return dir;
};

const exec = (dir: string, stateDir: string, extra: Record<string, string> = {}, ...more: string[]) =>
  runCli(['exec', join(dir, 'rb.yaml'), '--allow-dirty', '--yes', '--output', 'plain', '--state-dir', stateDir, ...more], {
    env: cliEnv({ WORK: join(dir, 'work'), RUNBOOK_KILL_GRACE_MS: '300', ...extra }),
    timeoutMs: 60_000,
  });

const oneLine = (result: CliOutcome, pattern: RegExp) => {
  const lines = result.stderr.split('\n').filter((line) => pattern.test(line));
  expect(lines, result.output).toHaveLength(1);
  expect(result.stderr).not.toMatch(/internal error|\n\s+at |Error: /);
};

const journalOf = (stateDir: string) => {
  const runs = join(stateDir, 'runs');
  return readJournal(join(runs, readdirSync(runs).sort().at(-1)!, 'journal.jsonl'));
};

const noLock = (stateDir: string) => expect(existsSync(join(stateDir, 'locks')) ? readdirSync(join(stateDir, 'locks')) : []).toEqual([]);

const simple = `  - id: first
    run: touch "$WORK/first"
    verify: test -f "$WORK/first"
`;

describe('the state folder cannot be written', () => {
  it('full before the run: refused at start (exit 2), nothing run, no lock left; runs once there is room', async () => {
    const disk = mountTmpfs('full-before', 'size=256k');
    const dir = runbook('full-before', simple);
    fill(disk);
    const result = await exec(dir, join(disk, 'state'));
    expect(result.code, result.output).toBe(2);
    oneLine(result, new RegExp(`cannot write the state folder ${disk}/state.*ENOSPC.*nothing was run`));
    expect(existsSync(join(dir, 'work', 'first'))).toBe(false);
    noLock(join(disk, 'state'));
    rmSync(join(disk, 'filler'));
    const again = await exec(dir, join(disk, 'state'));
    expect(again.code, again.output).toBe(0);
  }, 60_000);

  it('filled mid-run by a step writing a lot of output: the step group ended, cleanup run, exit 1, resume works', async () => {
    const disk = mountTmpfs('full-output', 'size=1m');
    const dir = runbook(
      'full-output',
      `  - id: noisy
    run: |
      echo $$ > "$WORK/pid"
      if [ ! -e "$WORK/quiet" ]; then
        touch "$WORK/quiet"
        yes 'a line of output that fills the log of this run'
      fi
    verify: test -f "$WORK/quiet"
  - id: after
    run: touch "$WORK/after"
    verify: test -f "$WORK/after"
`,
    );
    const stateDir = join(disk, 'state');
    const started = Date.now();
    const result = await exec(dir, stateDir);
    expect(result.code, result.output.slice(-2000)).toBe(1);
    expect(Date.now() - started).toBeLessThan(30_000);
    oneLine(result, new RegExp(`cannot write the state folder ${stateDir} \\(runs/[^/]+/log\\.txt\\): ENOSPC`));
    expect(pidAlive(Number(readFileSync(join(dir, 'work', 'pid'), 'utf8')))).toBe(false);
    expect(existsSync(join(dir, 'work', 'tidy'))).toBe(true);
    expect(existsSync(join(dir, 'work', 'after'))).toBe(false);
    noLock(stateDir);
    // Room again (the log is what filled it): the journal is clean and --resume finishes the run.
    spawnSync('mount', ['-o', 'remount,size=64m', disk]);
    const journal = journalOf(stateDir);
    expect(journal.torn).toBeUndefined();
    expect(journal.records.some((r) => r.type === 'step-done' && r.id === 'noisy')).toBe(false);
    const resumed = await exec(dir, stateDir, {}, '--resume');
    expect(resumed.code, resumed.output.slice(-2000)).toBe(0);
    expect(existsSync(join(dir, 'work', 'after'))).toBe(true);
  }, 60_000);

  it("full at the journal record of a step's end: not counted done, no torn record, cleanup journals once there is room", async () => {
    const disk = mountTmpfs('full-journal', 'size=512k');
    const stateDir = join(disk, 'state');
    const dir = runbook(
      'full-journal',
      `  - id: filling
    run: touch "$WORK/ran-$(date +%s%N)"
    verify: |
      # 4 KiB of verification output, logged first; then the disk fills before step-done is written.
      head -c 4000 /dev/zero | tr '\\0' v; echo
      sleep 0.5
      if [ ! -e "$WORK/filled" ]; then touch "$WORK/filled"; cat /dev/zero > "$FILL" 2>/dev/null || true; fi
`,
    );
    const result = await exec(dir, stateDir, { FILL: join(disk, 'filler') });
    expect(result.code, result.output.slice(-2000)).toBe(1);
    oneLine(result, new RegExp(`cannot write the state folder ${stateDir} \\(runs/[^/]+/journal\\.jsonl\\): ENOSPC`));
    expect(existsSync(join(dir, 'work', 'tidy'))).toBe(true);
    noLock(stateDir);
    const journal = journalOf(stateDir);
    expect(journal.torn).toBeUndefined();
    expect(journal.records.some((r) => r.type === 'step-done' && r.id === 'filling')).toBe(false);
    // The cleanup step freed the disk: the run's end is on record.
    expect(journal.records.at(-1)).toMatchObject({ type: 'run-end', outcome: 'failed' });
    const resumed = await exec(dir, stateDir, { FILL: join(disk, 'filler') }, '--resume');
    expect(resumed.code, resumed.output.slice(-2000)).toBe(0);
    // Not counted done without its record: it ran again.
    expect(readdirSync(join(dir, 'work')).filter((f) => f.startsWith('ran-'))).toHaveLength(2);
  }, 60_000);

  it('read-only (EROFS): refused at start with the folder and the errno (exit 2)', async () => {
    const disk = mountTmpfs('read-only', 'size=64k,ro');
    const dir = runbook('read-only', simple);
    const result = await exec(dir, join(disk, 'state'));
    expect(result.code, result.output).toBe(2);
    oneLine(result, new RegExp(`cannot write the state folder ${disk}/state.*EROFS.*nothing was run`));
    expect(existsSync(join(dir, 'work', 'first'))).toBe(false);
  });

  it('permission denied (EACCES, a run as nobody): refused at start with the folder and the errno (exit 2)', async () => {
    const dir = runbook('denied', simple);
    chmodSync(dir, 0o755);
    chmodSync(join(dir, 'work'), 0o777);
    chmodSync(root, 0o755);
    const stateDir = join(dir, 'state');
    mkdirSync(stateDir, { mode: 0o755 });
    const env = cliEnv({ WORK: join(dir, 'work'), HOME: '/tmp' });
    const result = await new Promise<CliOutcome>((done) => {
      const run = spawnSync(
        'setpriv',
        [
          '--reuid=65534',
          '--regid=65534',
          '--clear-groups',
          process.execPath,
          join(process.cwd(), 'bin', 'runbook.js'),
          'exec',
          join(dir, 'rb.yaml'),
          '--allow-dirty',
          '--output',
          'plain',
          '--state-dir',
          stateDir,
        ],
        { env, encoding: 'utf8' },
      );
      done({ code: run.status, signal: null, stdout: run.stdout, stderr: run.stderr, output: run.stdout + run.stderr });
    });
    expect(result.code, result.output).toBe(2);
    oneLine(result, new RegExp(`cannot write the state folder ${stateDir}.*EACCES.*nothing was run`));
    expect(existsSync(join(dir, 'work', 'first'))).toBe(false);
  });
  it('a drill whose report folder is full: one line naming it and the errno (exit 1), no half-written report left', async () => {
    const disk = mountTmpfs('full-report', 'size=128k');
    const dir = runbook('full-report', simple);
    fill(disk);
    const stateDir = join(dir, 'state');
    const result = await runCli(
      [
        'drill',
        join(dir, 'rb.yaml'),
        '--allow-dirty',
        '--yes',
        '--output',
        'plain',
        '--state-dir',
        stateDir,
        '--report-dir',
        join(disk, 'drills'),
      ],
      { env: cliEnv({ WORK: join(dir, 'work') }), timeoutMs: 60_000 },
    );
    expect(result.code, result.output).toBe(1);
    oneLine(result, new RegExp(`cannot write the drill report in ${disk}/drills: ENOSPC`));
    expect(readdirSync(join(disk, 'drills'))).toEqual([]);
    expect(journalOf(stateDir).records.at(-1)).toMatchObject({ type: 'run-end', outcome: 'success' });
    noLock(stateDir);
  });
});

describe('an unexpected exception while a run is going', () => {
  it('a step that makes its $RUNBOOK_OUTPUT a folder: the step fails with a clear message, cleanup runs, run-end recorded', async () => {
    const dir = runbook(
      'outputs-folder',
      `  - id: odd
    run: rm -f "$RUNBOOK_OUTPUT" && mkdir "$RUNBOOK_OUTPUT"
    verify: test -d "$RUNBOOK_OUTPUT"
  - id: after
    run: touch "$WORK/after"
    verify: test -f "$WORK/after"
`,
    );
    const stateDir = join(dir, 'state');
    const result = await exec(dir, stateDir);
    expect(result.code, result.output).toBe(1);
    expect(result.stderr).toMatch(/\[odd\] failed: cannot read the step's outputs file .*odd\.env: EISDIR/);
    expect(result.stderr).not.toMatch(/internal error|\n\s+at /);
    expect(existsSync(join(dir, 'work', 'tidy'))).toBe(true);
    expect(journalOf(stateDir).records.at(-1)).toMatchObject({ type: 'run-end', outcome: 'failed', failedStep: 'odd' });
    noLock(stateDir);
  });

  it('stdout closed by its reader (exec --output json | head -1): the run goes on to its end, cleanup included', async () => {
    const dir = runbook(
      'closed-stdout',
      `  - id: slow
    run: sleep 0.5; touch "$WORK/slow"
    verify: test -f "$WORK/slow"
  - id: after
    run: touch "$WORK/after"
    verify: test -f "$WORK/after"
`,
    );
    const stateDir = join(dir, 'state');
    const shell = spawnSync(
      'bash',
      [
        '-c',
        `set -o pipefail; "${process.execPath}" bin/runbook.js exec "${dir}/rb.yaml" --allow-dirty --output json --state-dir "${stateDir}" | head -c 10 >/dev/null`,
      ],
      { encoding: 'utf8', env: cliEnv({ WORK: join(dir, 'work') }) },
    );
    expect(shell.stderr).not.toMatch(/internal error|\n\s+at |EPIPE/);
    expect(existsSync(join(dir, 'work', 'after'))).toBe(true);
    expect(existsSync(join(dir, 'work', 'tidy'))).toBe(true);
    expect(journalOf(stateDir).records.at(-1)).toMatchObject({ type: 'run-end', outcome: 'success' });
    noLock(stateDir);
  });
});
