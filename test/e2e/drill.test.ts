// The drill itself, on a few hundred MB: seed the local stack, run the shipped backup runbooks,
// destroy everything, `runbook drill runbooks/recover-full.yaml --env demo`, then prove full
// fidelity (every table's rows and ordered content, sequences, every file, every git ref, git fsck,
// the DNS record) and that the drill report's numbers are the journal's.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readJournal, type JournalRecord } from '../../src/engine/journal.js';
import { listDrillReports } from '../../src/report/drill-files.js';
import type { DrillReport } from '../../src/report/drill-model.js';
import { compareSnapshots, demoEnvironment } from '../../tools/stack/demo.js';
import { runCommand } from '../../tools/stack/run.js';
import { startStack, type Stack, type StackSnapshot } from '../../tools/stack/stack.js';
import { SERVICE_DATABASES, type ServiceName } from '../../tools/stack/seed.js';
import { runCli } from '../helpers/cli.js';
import { BACKUP_RUNBOOKS } from '../../tools/stack/runbooks.js';

const backups = BACKUP_RUNBOOKS;

/** Scale 50: about 280 MB of PostgreSQL data on disk over the four databases (measured: 60 gives 337 MB). */
const SCALE = Number(process.env.RUNBOOK_DRILL_TEST_SCALE ?? 50);

/** One row inserted per database after the recovery: its id must come after every id restored. */
const inserts: Record<ServiceName, { table: string; sql: string }> = {
  supabase: { table: 'public.tags', sql: `INSERT INTO public.tags (name) VALUES ('after-recovery') RETURNING id` },
  twenty: {
    table: 'public.activities',
    sql: `INSERT INTO public.activities (type, data, happened_at) VALUES ('note', '{}', now()) RETURNING id`,
  },
  gitea: {
    table: 'public."user"',
    sql: `INSERT INTO public."user" (lower_name, name, email, passwd, created_unix) VALUES ('after', 'After', 'after@example.test', 'x', 0) RETURNING id`,
  },
  dam: { table: 'public.tags', sql: `INSERT INTO public.tags (name) VALUES ('after-recovery') RETURNING id` },
};

/** Text as an XML attribute holds it (step names have apostrophes: Gitea's). */
const xmlText = (text: string) =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');

describe('runbook drill runbooks/recover-full.yaml on the local stack', () => {
  let stack: Stack;
  let before: StackSnapshot;
  let after: StackSnapshot;
  let drill: { code: number | null; output: string };
  let reportDir: string;
  const maxIds: Partial<Record<ServiceName, number>> = {};

  beforeAll(async () => {
    stack = await startStack({ scale: SCALE, storage: { files: 200, bytes: 20 << 20 }, dam: { files: 200, bytes: 20 << 20 } });
    reportDir = mkdtempSync(join(tmpdir(), 'runbook-drill-reports-'));
    const envFile = join(stack.root, 'stack.env');
    await stack.writeEnvFile(envFile);
    const env = demoEnvironment({ RUNBOOK_STATE_DIR: join(stack.root, 'state'), NO_COLOR: '1' });
    const common = ['--env', 'demo', '--env-file', envFile, '--yes', '--allow-dirty', '--output', 'plain'];
    before = await stack.snapshot();
    for (const [service, { table }] of Object.entries(inserts) as [ServiceName, { table: string }][]) {
      maxIds[service] = Number(await stack.clusters[service].psql(`SELECT max(id) FROM ${table}`, SERVICE_DATABASES[service]));
    }
    for (const name of backups) {
      const run = await runCli(['exec', `runbooks/${name}.yaml`, ...common], { env });
      if (run.code !== 0) throw new Error(`runbooks/${name}.yaml exited ${run.code}:\n${run.output}`);
    }
    await stack.destroyServices();
    await stack.recreateEmptyClusters();
    drill = await runCli(['drill', 'runbooks/recover-full.yaml', ...common, '--report-dir', reportDir], { env });
    after = await stack.snapshot();
  }, 600_000);

  afterAll(async () => {
    await stack?.stop();
    if (reportDir) rmSync(reportDir, { recursive: true, force: true });
  });

  it('succeeds, within the RTO', () => {
    expect(drill.output).toMatch(/drill of recover-full \(demo\): success, .* against an RTO of 2h — met/);
    expect(drill.code).toBe(0);
  });

  it('restores every table of every database: row counts, ordered content checksums and sequence values', () => {
    const tables = Object.values(before.databases).reduce((n, d) => n + Object.keys(d.tables).length, 0);
    expect(tables).toBeGreaterThan(15);
    expect(Object.values(before.databases.twenty.tables).some((t) => t.rows > 10_000)).toBe(true);
    expect(compareSnapshots(before, after)).toEqual([]);
  });

  it('continues every sequence past the restored ids', async () => {
    for (const [service, { sql }] of Object.entries(inserts) as [ServiceName, { sql: string }][]) {
      const id = Number((await stack.clusters[service].psql(sql, SERVICE_DATABASES[service])).split('\n')[0]);
      expect(id, service).toBeGreaterThan(maxIds[service]!);
    }
  });

  it('restores every file with its sha256 and leaves the DAM derivatives out', () => {
    expect(Object.keys(before.storage).length).toBeGreaterThan(100);
    expect(after.storage).toEqual(before.storage);
    expect(after.damOriginals).toEqual(before.damOriginals);
    expect(Object.keys(stack.seeded.dam.derivatives).length).toBeGreaterThan(0);
    expect(existsSync(join(stack.paths.dam, 'derivatives'))).toBe(false);
  });

  it('restores every git ref, and git fsck is clean in every repository', async () => {
    expect(Object.keys(before.repositories).length).toBeGreaterThanOrEqual(3);
    expect(after.repositories).toEqual(before.repositories);
    for (const name of Object.keys(after.repositories)) {
      const path = join(stack.paths.repositories, `${name}.git`);
      const fsck = await runCommand('git', ['-C', path, 'fsck', '--strict', '--no-progress']);
      expect(fsck.stdout + fsck.stderr, name).not.toMatch(/error|missing|broken/i);
    }
  });

  it('points the DNS record at the new server', async () => {
    expect(await stack.dns!.query('crm')).toEqual(['198.51.100.7']);
  });

  it("writes a report whose numbers are the journal's", () => {
    const [stored, ...more] = listDrillReports(reportDir, 'recover-full');
    expect(more).toEqual([]);
    const report: DrillReport = stored!.report;
    const { records } = readJournal(report.journal);
    const end = records.find((r) => r.type === 'run-end')!;
    expect(report).toMatchObject({
      outcome: end.outcome,
      durationMs: end.durationMs,
      environment: 'demo',
      startedAt: records[0]!.t,
      finishedAt: end.t,
    });
    const terminal = (id: string) =>
      records.filter((r): r is JournalRecord => r.id === id && ['step-done', 'step-failed', 'step-skipped'].includes(r.type)).at(-1)!;
    for (const step of report.steps) {
      const record = terminal(step.id);
      if (record.type === 'step-skipped') {
        expect(step).toMatchObject({ status: 'skipped', reason: record.reason });
        continue;
      }
      expect(step.status, step.id).toBe('done');
      expect(step.durationMs, step.id).toBe(record.durationMs);
      expect(step.attempts, step.id).toBe(record.attempts);
      expect(step.startedAt).toBe(records.find((r) => r.type === 'step-start' && r.id === step.id)!.t);
    }
    // Each restore names the backup it used, and its age at the drill's start.
    // The configuration and runbook repositories and the secrets, four databases, the repositories
    // and the rest of Gitea's volume, storage and the DAM.
    const restores = report.steps.filter((s) => s.backup !== undefined);
    expect(restores.map((s) => s.id)).toEqual([
      'prepare-host.repositories',
      'prepare-host.secrets',
      'restore-supabase.restore',
      'restore-twenty.restore',
      'restore-gitea-db.restore',
      'restore-dam-db.restore',
      'restore-gitea-repos.restore',
      'restore-gitea-repos.data',
      'restore-files.storage',
      'restore-files.dam',
    ]);
    for (const step of restores) {
      expect(step.backup?.id, step.id).toMatch(/^\d{4}-\d\d-\d\dT\d{6}Z$/);
      expect(step.backup!.ageMs! + Date.parse(step.backup!.createdAt!)).toBe(Date.parse(report.startedAt));
    }
    expect(report.rpo!.achievedMs).toBe(Math.max(...restores.map((s) => s.backup!.ageMs!)));

    // The other two renderings carry the same numbers.
    const base = stored!.path.replace(/\.json$/, '');
    const xml = readFileSync(`${base}.xml`, 'utf8');
    for (const step of report.steps)
      expect(xml).toContain(`name="${xmlText(`${step.id}: ${step.name}`)}" time="${((step.durationMs ?? 0) / 1000).toFixed(3)}"`);
    expect(xml).toContain('failures="0"');
    const markdown = readFileSync(`${base}.md`, 'utf8');
    expect(markdown).toContain('# Drill: recover-full — passed');
    expect(markdown).toContain(`| Run id | \`${report.runId}\` |`);
  });
});
