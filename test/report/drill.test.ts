// `runbook drill` through the built CLI on small runbooks in temp git repos: the three report
// files, their numbers against the journal, same-day names, the comparison with the previous
// drill, the RTO, the protected environment, and `runbook status`'s drill freshness.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cli, expectBuilt } from '../helpers/cli.js';
import { createGitRepo, type GitRepo } from '../helpers/git-repo.js';
import { readJournal } from '../../src/engine/journal.js';
import { DRILL_FORMAT, parseBackupId, type DrillReport } from '../../src/report/drill-model.js';

beforeAll(() => expectBuilt('cli/drill.js'), 120_000);

let repo: GitRepo;
afterEach(() => repo?.remove());

/**
 * A two-step recovery. Files in $WORK steer it between drills: `delay` (seconds the restore
 * sleeps), `flaky` (the check fails its first attempt), `broken` (the check always fails).
 */
const mini = (rto = '1h') => `runbook: 1
name: mini
description: A small recovery for drill tests.
kind: recovery
rto: ${rto}
steps:
  - id: restore
    name: Restore the data
    run: |
      sleep "$(cat "$WORK/delay" 2>/dev/null || echo 0)"
      echo "restored from 2026-01-01T000000Z"
      printf 'backup=2026-01-01T000000Z\\ncreated=2026-01-01T00:00:00Z\\n' >> "$RUNBOOK_OUTPUT"
    verify: |
      for i in $(seq 1 30); do echo "row check $i ok"; done
  - id: check
    name: Check the service
    retries: 1
    run: |
      if [ -e "$WORK/flaky" ] && [ ! -e "$WORK/flaked" ]; then touch "$WORK/flaked"; exit 1; fi
      true
    verify: test ! -e "$WORK/broken"
`;

const setup = (files: Record<string, string>) => {
  repo = createGitRepo(files);
  mkdirSync(join(repo.dir, 'work'));
};

const work = (name: string, content = '') => writeFileSync(join(repo.dir, 'work', name), content);

const run = (command: string, args: string[]) => {
  const result = spawnSync(process.execPath, [cli, command, ...args], {
    cwd: repo.dir,
    env: { ...process.env, WORK: join(repo.dir, 'work'), NO_COLOR: '1', RUNBOOK_STATE_DIR: join(repo.dir, '.state') },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
};

const drill = (...args: string[]) => run('drill', ['runbooks/mini.yaml', '--yes', '--output', 'plain', ...args]);

const reports = (dir = join(repo.dir, 'runbooks', 'drills')) => (existsSync(dir) ? readdirSync(dir).sort() : []);
const readReport = (name: string): DrillReport =>
  JSON.parse(readFileSync(join(repo.dir, 'runbooks', 'drills', name), 'utf8')) as DrillReport;

describe('runbook drill', () => {
  it('writes md, json and xml into runbooks/drills/ whose numbers are the journal’s', () => {
    setup({ 'runbooks/mini.yaml': mini(), 'runbooks/environments/staging.yaml': 'marker: 1\n' });
    work('delay', '0.3');
    const result = drill('--env', 'staging');
    expect(result.stderr).not.toMatch(/runbook:/);
    expect(result.code).toBe(0);
    const day = new Date().toISOString().slice(0, 10);
    expect(reports()).toEqual([`${day}-mini.json`, `${day}-mini.md`, `${day}-mini.xml`]);
    expect(result.stdout).toContain(
      `report: runbooks/drills/${day}-mini.md, runbooks/drills/${day}-mini.json, runbooks/drills/${day}-mini.xml`,
    );
    expect(result.stdout).toMatch(/drill of mini \(staging\): success, \d+ms against an RTO of 1h — met/);

    const report = readReport(`${day}-mini.json`);
    const { records } = readJournal(report.journal);
    const done = (id: string) => records.find((r) => r.type === 'step-done' && r.id === id)!;
    const end = records.find((r) => r.type === 'run-end')!;
    expect(report).toMatchObject({
      format: DRILL_FORMAT,
      runbook: 'mini',
      environment: 'staging',
      commit: repo.git('rev-parse', 'HEAD').trim(),
      outcome: 'success',
      durationMs: end.durationMs,
      startedAt: records[0]!.t,
      finishedAt: end.t,
      rto: { target: '1h', targetMs: 3_600_000, met: true },
      sessions: 1,
    });
    expect(report.user).toBeTruthy();
    expect(report.host).toBeTruthy();
    for (const step of report.steps) {
      expect(step).toMatchObject({
        status: 'done',
        durationMs: done(step.id).durationMs,
        attempts: done(step.id).attempts,
        startedAt: records.find((r) => r.type === 'step-start' && r.id === step.id)!.t,
      });
    }
    expect(report.steps[0]!.durationMs).toBeGreaterThanOrEqual(300);
    // The verification printed 30 lines; the report keeps the last 20 and the command.
    expect(report.steps[0]!.verify.output!.split('\n')).toEqual(Array.from({ length: 20 }, (_, i) => `row check ${i + 11} ok`));
    expect(report.steps[0]!.verify.command).toContain('for i in $(seq 1 30)');
    // RPO: the backup's age at the drill's start.
    expect(report.steps[0]!.backup).toEqual({
      id: '2026-01-01T000000Z',
      createdAt: '2026-01-01T00:00:00Z',
      ageMs: Date.parse(report.startedAt) - Date.parse('2026-01-01T00:00:00Z'),
    });
    expect(report.rpo).toMatchObject({ step: 'restore', backup: '2026-01-01T000000Z', achievedMs: report.steps[0]!.backup!.ageMs });

    const md = readFileSync(join(repo.dir, 'runbooks', 'drills', `${day}-mini.md`), 'utf8');
    expect(md).toContain('# Drill: mini — passed');
    expect(md).toContain('against an RTO of 1h: **met**');
    expect(md).toContain('row check 30 ok');
    expect(md).not.toContain('row check 10 ok');
    expect(md).toContain('This is the first drill of this runbook in this folder.');
    const xml = readFileSync(join(repo.dir, 'runbooks', 'drills', `${day}-mini.xml`), 'utf8');
    expect(xml).toContain(
      `<testcase classname="mini" name="restore: Restore the data" time="${(report.steps[0]!.durationMs! / 1000).toFixed(3)}">`,
    );
    expect(xml).toMatch(/<testsuite name="mini" tests="3" failures="0"/);
  });

  it('never overwrites a report of the same day, and compares with the previous drill', () => {
    setup({ 'runbooks/mini.yaml': mini() });
    expect(drill().code).toBe(0);
    // Slower by more than 20 % and a second, a retry, then a failure.
    work('delay', '1.5');
    work('flaky');
    const second = drill();
    expect(second.code).toBe(0);
    const day = new Date().toISOString().slice(0, 10);
    expect(reports()).toEqual(['json', 'md', 'xml'].flatMap((ext) => [`${day}-mini-2.${ext}`, `${day}-mini.${ext}`]).sort());
    const report = readReport(`${day}-mini-2.json`);
    expect(report.comparison).toMatchObject({
      previous: `${day}-mini.json`,
      newFailures: [],
      newRetries: [{ id: 'check', before: 1, after: 2 }],
    });
    expect(report.comparison!.slower).toEqual([expect.objectContaining({ id: 'restore', afterMs: report.steps[0]!.durationMs })]);
    expect(second.stdout).toMatch(/since the drill of .*: restore [\d.]+× slower, check needed 2 attempts/);

    work('broken');
    const third = drill();
    expect(third.code).toBe(1);
    const failed = readReport(`${day}-mini-3.json`);
    expect(failed).toMatchObject({
      outcome: 'failed',
      failedStep: 'check',
      comparison: { previous: `${day}-mini-2.json`, newFailures: ['check'] },
    });
    const xml = readFileSync(join(repo.dir, 'runbooks', 'drills', `${day}-mini-3.xml`), 'utf8');
    expect(xml).toMatch(
      /<testcase classname="mini" name="check: Check the service" time="[\d.]+">\s*<failure message="verification exited 1 \(after 2 attempts\)"/,
    );
    expect(readFileSync(join(repo.dir, 'runbooks', 'drills', `${day}-mini-3.md`), 'utf8')).toContain(
      '- `check` failed (it did not fail last time)',
    );
  });

  it('exits 1 when the recovery succeeded but missed its RTO', () => {
    setup({ 'runbooks/mini.yaml': mini('1s') });
    work('delay', '1.2');
    const result = drill('--report-dir', 'out');
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/runbook: the drill missed its RTO: \d+ s against 1s/);
    const [json] = readdirSync(join(repo.dir, 'out')).filter((f) => f.endsWith('.json'));
    const report = JSON.parse(readFileSync(join(repo.dir, 'out', json!), 'utf8')) as DrillReport;
    expect(report).toMatchObject({ outcome: 'success', rto: { met: false } });
    const xml = readFileSync(join(repo.dir, 'out', json!.replace('.json', '.xml')), 'utf8');
    expect(xml).toContain('<failure message="RTO missed" type="rto">');
    expect(readFileSync(join(repo.dir, 'out', json!.replace('.json', '.md')), 'utf8')).toContain('# Drill: mini — FAILED');
  });

  it('refuses a protected environment before anything runs (exit 2, no report)', () => {
    setup({ 'runbooks/mini.yaml': mini(), 'runbooks/environments/production.yaml': 'protected: true\n' });
    const result = drill('--env', 'production');
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/protected/);
    expect(existsSync(join(repo.dir, '.state', 'runs'))).toBe(false);
    expect(reports()).toEqual([]);
  });

  it('writes nothing on --dry-run', () => {
    setup({ 'runbooks/mini.yaml': mini() });
    expect(drill('--dry-run').code).toBe(0);
    expect(reports()).toEqual([]);
  });
});

describe('runbook status: drill freshness', () => {
  const staleReport = (startedAt: string, outcome = 'success'): string =>
    JSON.stringify({
      format: DRILL_FORMAT,
      runbook: 'full',
      startedAt,
      outcome,
      rto: { target: '2h', targetMs: 7_200_000, met: true },
      steps: [],
    });

  it('warns for a top-level recovery runbook never drilled, and ignores the runbooks it includes', () => {
    setup({
      'runbooks/full.yaml': 'runbook: 1\nname: full\nkind: recovery\ninclude: [part.yaml]\nsteps: []\n',
      'runbooks/part.yaml': 'runbook: 1\nname: part\nkind: recovery\nsteps: []\n',
      'runbooks/backup.yaml': 'runbook: 1\nname: nightly\nkind: backup\nsteps: []\n',
    });
    const result = run('status', ['--format', 'json']);
    expect(result.code).toBe(0);
    const { drills } = JSON.parse(result.stdout) as { drills: { runbook: string; warning?: string }[] };
    expect(drills).toEqual([
      { runbook: 'full', file: join('runbooks', 'full.yaml'), warning: 'never drilled: no report in runbooks/drills' },
    ]);
    expect(run('status', []).stdout).toContain('warning: full: never drilled: no report in runbooks/drills');
  });

  it('warns when the newest report is more than a year old, not when a recent one passed', () => {
    setup({ 'runbooks/full.yaml': 'runbook: 1\nname: full\nkind: recovery\nsteps: []\n' });
    mkdirSync(join(repo.dir, 'runbooks', 'drills'));
    const old = new Date(Date.now() - 400 * 86_400_000).toISOString();
    writeFileSync(join(repo.dir, 'runbooks', 'drills', `${old.slice(0, 10)}-full.json`), staleReport(old));
    const stale = run('status', []);
    expect(stale.stdout).toMatch(/warning: full: last drilled 400 days ago \(more than a year\)/);

    const recent = new Date(Date.now() - 30 * 86_400_000).toISOString();
    writeFileSync(join(repo.dir, 'runbooks', 'drills', `${recent.slice(0, 10)}-full.json`), staleReport(recent));
    const fresh = run('status', ['--format', 'json']);
    expect(JSON.parse(fresh.stdout).drills).toEqual([
      expect.objectContaining({ runbook: 'full', newest: expect.objectContaining({ ageDays: 30, outcome: 'success' }) }),
    ]);
    expect(JSON.parse(fresh.stdout).drills[0].warning).toBeUndefined();

    // A newer failed drill is no proof: it warns although it is recent.
    const failed = new Date(Date.now() - 86_400_000).toISOString();
    writeFileSync(join(repo.dir, 'runbooks', 'drills', `${failed.slice(0, 10)}-full.json`), staleReport(failed, 'failed'));
    expect(run('status', ['--report-dir', 'runbooks/drills']).stdout).toContain('warning: full: the last drill did not pass (failed)');
  });
});

describe('parseBackupId', () => {
  it('reads the backup folder layout as UTC and rejects anything else', () => {
    expect(parseBackupId('2026-11-26T033717Z')).toBe('2026-11-26T03:37:17Z');
    expect(parseBackupId('2026-11-26T03:37:17Z')).toBeUndefined();
    expect(parseBackupId('latest')).toBeUndefined();
  });
});
