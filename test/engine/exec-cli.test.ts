// End to end through the built CLI (`node bin/runbook.js exec …`) on runbooks in temp git repos.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync, appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cli, expectBuilt } from '../helpers/cli.js';
import { createGitRepo, type GitRepo } from '../helpers/git-repo.js';
import { readJournal } from '../../src/engine/journal.js';

beforeAll(() => expectBuilt('cli/exec.js'), 120_000);

let repo: GitRepo;
afterEach(() => repo?.remove());

const tenSteps = (slowStep: number) => {
  const steps = Array.from({ length: 10 }, (_, index) => {
    const i = index + 1;
    const slow = i === slowStep ? `\n      if [ ! -e "$WORK/go" ]; then echo $$ > "$WORK/pid${i}"; sleep 60; fi` : '';
    return `  - id: s${i}\n    name: Step ${i}\n    run: |\n      echo x >> "$WORK/c${i}"${slow}\n    verify: test -s "$WORK/c${i}"\n`;
  });
  return `runbook: 1\nname: ten\nsteps:\n${steps.join('')}`;
};

const setup = (files: Record<string, string>) => {
  repo = createGitRepo(files);
  mkdirSync(join(repo.dir, 'work'));
  return repo;
};

const env = (extra: Record<string, string> = {}) => ({
  ...process.env,
  WORK: join(repo.dir, 'work'),
  RUNBOOK_KILL_GRACE_MS: '500',
  NO_COLOR: '1',
  ...extra,
});

const exec = (args: string[], extra: Record<string, string> = {}) => {
  const result = spawnSync(process.execPath, [cli, 'exec', ...args, '--state-dir', join(repo.dir, '.state'), '--output', 'plain'], {
    cwd: repo.dir,
    env: env(extra),
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
};

const start = (args: string[], extra: Record<string, string> = {}): ChildProcess =>
  spawn(process.execPath, [cli, 'exec', ...args, '--state-dir', join(repo.dir, '.state'), '--output', 'plain'], {
    cwd: repo.dir,
    env: env(extra),
    stdio: ['ignore', 'pipe', 'pipe'],
  });

const counts = () =>
  Array.from({ length: 10 }, (_, i) =>
    existsSync(join(repo.dir, 'work', `c${i + 1}`))
      ? readFileSync(join(repo.dir, 'work', `c${i + 1}`), 'utf8')
          .split('\n')
          .filter(Boolean).length
      : 0,
  );

const waitFor = async (path: string, ms = 20_000) => {
  const until = Date.now() + ms;
  while (!existsSync(path) || readFileSync(path, 'utf8').trim() === '') {
    if (Date.now() > until) throw new Error(`timed out waiting for ${path}`);
    await new Promise((r) => setTimeout(r, 25));
  }
  return readFileSync(path, 'utf8').trim();
};

const exited = (child: ChildProcess) =>
  new Promise<number | null>((resolve) => child.on('exit', (code, signal) => resolve(code ?? (signal ? -1 : null))));

const journals = () => {
  const runs = join(repo.dir, '.state', 'runs');
  return readdirSync(runs).map((id) => join(runs, id, 'journal.jsonl'));
};

describe('runbook exec (CLI)', () => {
  it('resumes after kill -9 of the engine without re-running the verified steps', async () => {
    setup({ 'rb.yaml': tenSteps(5) });
    const child = start(['rb.yaml']);
    const stepPid = Number(await waitFor(join(repo.dir, 'work', 'pid5')));
    child.kill('SIGKILL');
    await exited(child);
    // The orphaned step keeps its own process group; end it as an operator would.
    try {
      process.kill(-stepPid, 'SIGKILL');
    } catch {}
    expect(counts()).toEqual([1, 1, 1, 1, 1, 0, 0, 0, 0, 0]);
    writeFileSync(join(repo.dir, 'work', 'go'), '');
    const resumed = exec(['rb.yaml', '--resume']);
    expect(resumed.stderr).toContain('took over a stale lock');
    expect(resumed.code).toBe(0);
    expect(counts()).toEqual([1, 1, 1, 1, 2, 1, 1, 1, 1, 1]);
    const [journal] = journals();
    const { records } = readJournal(journal!);
    expect(records.filter((r) => r.type === 'run-start').map((r) => r.resumed)).toEqual([false, true]);
    expect(records.at(-1)).toMatchObject({ type: 'run-end', outcome: 'success' });
  });

  it('exits 130 on SIGINT mid-step, journals the interruption, and --resume continues', async () => {
    setup({ 'rb.yaml': tenSteps(3) });
    const child = start(['rb.yaml']);
    await waitFor(join(repo.dir, 'work', 'pid3'));
    child.kill('SIGINT');
    expect(await exited(child)).toBe(130);
    expect(counts()).toEqual([1, 1, 1, 0, 0, 0, 0, 0, 0, 0]);
    const { records } = readJournal(journals()[0]!);
    expect(records.find((r) => r.type === 'interrupted')).toMatchObject({ signal: 'SIGINT', steps: ['s3'] });
    expect(records.some((r) => r.type === 'step-start' && r.id === 's4')).toBe(false);
    writeFileSync(join(repo.dir, 'work', 'go'), '');
    expect(exec(['rb.yaml', '--resume']).code).toBe(0);
    expect(counts()).toEqual([1, 1, 2, 1, 1, 1, 1, 1, 1, 1]);
  });

  it('detects a torn last journal record, and drops it with --force', () => {
    setup({ 'rb.yaml': tenSteps(0).replace('test -s "$WORK/c4"', 'test -e "$WORK/go"') });
    expect(exec(['rb.yaml']).code).toBe(1);
    const journal = journals()[0]!;
    appendFileSync(journal, '{"seq":99,"t":"2026-11-26T00:00:00Z","type":"step-st');
    const refused = exec(['rb.yaml', '--resume']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/journal\.jsonl:\d+: the last record is torn or corrupted \(not valid JSON\).*"type":"step-st.*--force/);
    writeFileSync(join(repo.dir, 'work', 'go'), '');
    const forced = exec(['rb.yaml', '--resume', '--force']);
    expect(forced.code).toBe(0);
    expect(forced.stderr).toContain('dropped the torn last journal record');
    expect(readJournal(journal).torn).toBeUndefined();
    expect(counts()).toEqual([1, 1, 1, 2, 1, 1, 1, 1, 1, 1]);
  });

  it('refuses to resume when a verified step changed, unless --force re-runs it', () => {
    setup({ 'rb.yaml': tenSteps(0).replace('test -s "$WORK/c4"', 'test -e "$WORK/go"') });
    expect(exec(['rb.yaml']).code).toBe(1);
    repo.write({
      'rb.yaml': readFileSync(join(repo.dir, 'rb.yaml'), 'utf8').replace('echo x >> "$WORK/c2"', 'echo x >> "$WORK/c2"; true'),
    });
    repo.commit('edit s2');
    const refused = exec(['rb.yaml', '--resume']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/step\(s\) 's2' changed since they were verified.*--force/);
    writeFileSync(join(repo.dir, 'work', 'go'), '');
    expect(exec(['rb.yaml', '--resume', '--force']).code).toBe(0);
    expect(counts()).toEqual([1, 2, 1, 2, 1, 1, 1, 1, 1, 1]);
  });

  it('refuses a runbook with uncommitted changes (exit 2) unless --allow-dirty', () => {
    setup({ 'rb.yaml': tenSteps(0) });
    repo.write({ 'rb.yaml': tenSteps(0).replace('name: ten', 'name: ten\ndescription: edited') });
    const refused = exec(['rb.yaml']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/uncommitted changes in rb\.yaml.*--allow-dirty/);
    expect(counts()).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    expect(exec(['rb.yaml', '--allow-dirty']).code).toBe(0);
    expect(counts()[9]).toBe(1);
  });

  it('exits 4 while another run holds the lock, naming its pid, host and start', async () => {
    setup({ 'rb.yaml': tenSteps(2) });
    const child = start(['rb.yaml']);
    await waitFor(join(repo.dir, 'work', 'pid2'));
    const second = exec(['rb.yaml']);
    child.kill('SIGTERM');
    expect(await exited(child)).toBe(143);
    expect(second.code).toBe(4);
    expect(second.stderr).toMatch(new RegExp(`locked by pid ${child.pid} on host \\S+, started \\d{4}-\\d\\d-\\d\\dT`));
  });

  it('refuses a confirmation without a TTY and without --yes (exit 3), running nothing', () => {
    setup({ 'rb.yaml': tenSteps(0).replace('  - id: s7\n', '  - id: s7\n    confirm: Really wipe the disk?\n') });
    const refused = exec(['rb.yaml']);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toMatch(/'s7' need a confirmation.*--yes/);
    expect(counts()).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    expect(existsSync(join(repo.dir, '.state', 'runs'))).toBe(false);
    expect(exec(['rb.yaml', '--yes']).code).toBe(0);
    expect(counts()[6]).toBe(1);
  });

  it('never writes a secret (multi-line included) to the state dir, stdout or stderr', () => {
    const pem = '-----BEGIN TEST KEY-----\nQUJDREVGR0hJSktMTU5PUA\nUVJTVFVWV1hZWmFiY2RlZg\n-----END TEST KEY-----';
    setup({
      'rb.yaml': `runbook: 1\nname: leaky\nsecrets: [DB_PASSWORD, TLS_KEY]\nsteps:\n  - id: leak\n    run: |\n      echo "password is $DB_PASSWORD"\n      echo "$TLS_KEY"\n      echo "$TLS_KEY" | tail -2 >&2\n      echo "pw=$DB_PASSWORD" >> "$RUNBOOK_OUTPUT"\n    verify: test "$DB_PASSWORD" = nope\n`,
    });
    const result = exec(['rb.yaml', '--output', 'json'], { DB_PASSWORD: 's3cr3t-pa55word', TLS_KEY: pem });
    expect(result.code).toBe(1);
    const files: string[] = [];
    const walk = (d: string) => {
      for (const entry of readdirSync(d)) statSync(join(d, entry)).isDirectory() ? walk(join(d, entry)) : files.push(join(d, entry));
    };
    walk(join(repo.dir, '.state'));
    const everything = [result.stdout, result.stderr, ...files.map((f) => readFileSync(f, 'utf8'))].join('\n');
    expect(everything).toContain('password is ***');
    for (const needle of ['s3cr3t-pa55word', 'QUJDREVGR0hJSktMTU5PUA', 'UVJTVFVWV1hZWmFiY2RlZg']) expect(everything).not.toContain(needle);
  });

  it('refuses a secret shorter than 4 characters and a missing one (exit 2)', () => {
    setup({ 'rb.yaml': `runbook: 1\nname: short\nsecrets: [PIN]\nsteps:\n  - id: a\n    run: echo hi\n    verify: test -n "$PIN"\n` });
    const short = exec(['rb.yaml'], { PIN: 'abc' });
    expect(short.code).toBe(2);
    expect(short.stderr).toMatch(/shorter than 4 characters.*PIN/);
    expect(short.stderr).not.toContain('abc');
    const missing = exec(['rb.yaml'], { PIN: '' });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/not set in the environment: PIN/);
  });

  it('prints what would run with --dry-run, running nothing, honouring --only', () => {
    setup({ 'rb.yaml': tenSteps(0) });
    const dry = exec(['rb.yaml', '--dry-run', '--only', 's2', 's3']);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain('step s2: Step 2');
    expect(dry.stdout).toContain('echo x >> "$WORK/c3"');
    expect(dry.stdout).not.toContain('step s4');
    expect(counts()).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    expect(existsSync(join(repo.dir, '.state'))).toBe(false);
    expect(exec(['rb.yaml', '--only', 'nope']).code).toBe(2);
  });

  it('lists runs with their outcome and failed step in `runbook status`', () => {
    setup({ 'rb.yaml': tenSteps(0).replace('test -s "$WORK/c6"', 'test -e "$WORK/never"') });
    expect(exec(['rb.yaml']).code).toBe(1);
    const status = spawnSync(process.execPath, [cli, 'status', '--state-dir', join(repo.dir, '.state'), '--format', 'json'], {
      encoding: 'utf8',
    });
    expect(status.status).toBe(0);
    expect(JSON.parse(status.stdout).runs).toEqual([expect.objectContaining({ runbook: 'ten', outcome: 'failed', failedStep: 's6' })]);
  });
});
