import { mkdir, mkdtemp, readdir, rm, writeFile, access } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatBackupId } from '../../src/backup/id.js';
import { inspectBackups } from '../../src/backup/inspect.js';
import { retentionPrune } from '../../src/actions/retention.prune/index.js';
import { startS3 } from '../../tools/stack/s3.js';
import { systemPath } from '../../tools/stack/run.js';
import { requireBinaries, runShell } from './shell.js';
import { handMadeManifest } from '../helpers/manifest.js';

const now = new Date('2026-11-25T12:00:00Z');
const policy = { daily: 7, weekly: 4, monthly: 6 };
const day = 86_400_000;

/** A tiny complete backup: one data file and its manifest. */
const writeBackup = async (dest: string, id: string, manifest = true) => {
  await mkdir(join(dest, id, 'files'), { recursive: true });
  await writeFile(join(dest, id, 'files', 'data.txt'), id);
  if (manifest)
    await writeFile(
      join(dest, id, 'manifest.json'),
      JSON.stringify(
        handMadeManifest('files', id, {
          created: '2026-01-01T00:00:00Z',
          files: [{ name: 'files/data.txt', bytes: id.length, sha256: '0'.repeat(64) }],
        }),
      ),
    );
};

/** A year of backups, every 3rd day at 02:00, daily over the last 10 days, plus extras. */
const seedYear = async (dest: string) => {
  const ids = new Set<string>();
  for (let time = Date.parse('2025-11-26T02:00:00Z'); time <= Date.parse('2026-11-25T02:00:00Z'); time += 3 * day)
    ids.add(formatBackupId(new Date(time)));
  for (let time = Date.parse('2026-11-15T02:00:00Z'); time <= Date.parse('2026-11-25T02:00:00Z'); time += day)
    ids.add(formatBackupId(new Date(time)));
  ids.add('2026-11-24T140000Z');
  ids.add('2026-10-31T235959Z');
  for (const id of ids) await writeBackup(dest, id);
  return [...ids];
};

// Worked out by hand from the ids above (Nov 25 2026 is a Wednesday; the 3-day grid from
// 2025-11-26 hits Jun 30, Jul 30, Aug 29, Sep 28, Nov 6): days Nov 19–25 (the 24th's 14:00
// backup), weeks W48 (Nov 25) W47 (Nov 22, already a daily) W46 (Nov 15) W45 (Nov 2–8: Nov 6),
// months Nov..Jun (the newest of each: Oct 31 23:59:59, then the grid's last day of each month).
const expectedKept = [
  '2026-11-19T020000Z',
  '2026-11-20T020000Z',
  '2026-11-21T020000Z',
  '2026-11-22T020000Z',
  '2026-11-23T020000Z',
  '2026-11-24T140000Z',
  '2026-11-25T020000Z',
  '2026-11-15T020000Z',
  '2026-11-06T020000Z',
  '2026-10-31T235959Z',
  '2026-09-28T020000Z',
  '2026-08-29T020000Z',
  '2026-07-30T020000Z',
  '2026-06-30T020000Z',
].sort();

const backupsIn = async (dest: string) => (await readdir(dest)).filter((name) => /^\d{4}-/.test(name)).sort();

describe('retention over a local destination', () => {
  let root: string;
  beforeAll(async () => {
    requireBinaries('rclone');
    root = await mkdtemp(join(tmpdir(), 'retention-'));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('dry run deletes nothing; apply leaves exactly the policy set; check-policy agrees', async () => {
    const dest = join(root, 'year');
    const all = await seedYear(dest);
    const dry = await inspectBackups(dest, { policy, prune: true, now });
    expect(dry.applied).toBe(false);
    expect(await backupsIn(dest)).toEqual(all.sort());
    expect(
      dry
        .decisions!.filter((d) => d.action === 'keep')
        .map((d) => d.id)
        .sort(),
    ).toEqual(expectedKept);
    expect(dry.decisions!.find((d) => d.id === '2026-11-25T020000Z')!.reason).toBe(
      'newest, daily 2026-11-25, weekly 2026-W48, monthly 2026-11',
    );
    expect(dry.decisions!.find((d) => d.id === '2026-11-24T020000Z')!.reason).toBe('not in policy');
    expect((await inspectBackups(dest, { policy, checkPolicy: true, now })).problems).toContainEqual(
      expect.stringMatching(/should have been deleted: not in policy/),
    );

    const applied = await inspectBackups(dest, { policy, prune: true, apply: true, now });
    expect(applied.problems).toEqual([]);
    expect(await backupsIn(dest)).toEqual(expectedKept);
    expect((await inspectBackups(dest, { policy, checkPolicy: true, now })).problems).toEqual([]);
  }, 60_000);

  it('refuses to prune at all when the newest complete backup is older than the RPO', async () => {
    const dest = join(root, 'stale');
    await writeBackup(dest, '2026-11-20T020000Z');
    await writeBackup(dest, '2026-11-01T020000Z');
    await writeBackup(dest, '2026-11-10T020000Z', false); // an old incomplete one, normally removed
    const report = await inspectBackups(dest, {
      policy: { daily: 1, weekly: 0, monthly: 0 },
      prune: true,
      apply: true,
      rpoMs: 26 * 3_600_000,
      now,
    });
    expect(report.problems).toEqual([
      'newest complete backup 2026-11-20T020000Z is 5d 10h old, older than the RPO 1d 2h: refusing to prune',
    ]);
    expect(report.deleted).toEqual([]);
    expect(await backupsIn(dest)).toEqual(['2026-11-01T020000Z', '2026-11-10T020000Z', '2026-11-20T020000Z']);
    // The monitor check fails the same way, without talking about pruning.
    expect((await inspectBackups(dest, { rpoMs: 26 * 3_600_000, now })).problems).toEqual([
      'newest complete backup 2026-11-20T020000Z is 5d 10h old, older than the RPO 1d 2h',
    ]);
    expect((await inspectBackups(dest, { rpoMs: 6 * day, now })).problems).toEqual([]);
  });

  it('never trusts nor deletes a future-dated backup, and handles incomplete folders by age', async () => {
    const dest = join(root, 'odd');
    await writeBackup(dest, '2026-11-24T020000Z');
    await writeBackup(dest, '2026-11-25T020000Z');
    await writeBackup(dest, '2027-03-01T020000Z'); // clock skew on some machine
    await writeBackup(dest, '2026-11-25T113000Z', false); // running now
    await writeBackup(dest, '2026-11-20T020000Z', false); // died days ago
    await mkdir(join(dest, 'not-a-backup')); // not ours: ignored
    const report = await inspectBackups(dest, { policy: { daily: 1, weekly: 0, monthly: 0 }, prune: true, apply: true, rpoMs: day, now });
    expect(report.newest).toBe('2026-11-25T020000Z');
    expect(report.problems).toEqual(['2027-03-01T020000Z is dated in the future (clock skew?): not trusted']);
    const reasons = Object.fromEntries(report.decisions!.map((d) => [d.id, `${d.action}: ${d.reason}`]));
    expect(reasons).toEqual({
      '2026-11-20T020000Z': 'delete: incomplete (no manifest), older than 1d',
      '2026-11-24T020000Z': 'delete: not in policy',
      '2026-11-25T020000Z': 'keep: newest, daily 2026-11-25',
      '2026-11-25T113000Z': 'keep: incomplete, younger than 1d (a backup may be running)',
      '2027-03-01T020000Z': 'keep: dated in the future (clock skew?): not trusted, not deleted',
    });
    expect(await readdir(dest)).toEqual(expect.arrayContaining(['not-a-backup']));
    expect(await backupsIn(dest)).toEqual(['2026-11-25T020000Z', '2026-11-25T113000Z', '2027-03-01T020000Z']);
    const row = report.backups.find((b) => b.id === '2027-03-01T020000Z')!;
    expect(row.future).toBe(true);
  });

  it('a prune killed half way converges on re-run and never deletes the newest complete backup', async () => {
    const dest = join(root, 'killed');
    for (let i = 0; i < 6; i++)
      await writeBackup(
        dest,
        formatBackupId(new Date(Date.parse('2026-11-20T020000Z'.replace(/T(\d\d)(\d\d)(\d\d)Z/, 'T$1:$2:$3Z')) + i * day)),
      );
    // What a prune killed after marking and partly deleting leaves: marks, a folder without its manifest and half its data.
    await writeFile(join(dest, '2026-11-21T020000Z', '.pruning'), 'marked');
    await writeFile(join(dest, '2026-11-22T020000Z', '.pruning'), 'marked');
    await rm(join(dest, '2026-11-22T020000Z', 'manifest.json'));
    // A stray mark on the newest complete backup makes it untrusted, but must not get it deleted.
    await writeFile(join(dest, '2026-11-25T020000Z', '.pruning'), 'marked');
    const listed = await inspectBackups(dest, { now });
    expect(listed.backups.find((b) => b.id === '2026-11-22T020000Z')).toMatchObject({ state: 'incomplete', marked: true });

    const policy2 = { daily: 2, weekly: 0, monthly: 0 };
    const plan = await inspectBackups(dest, { policy: policy2, prune: true, now });
    expect(Object.fromEntries(plan.decisions!.map((d) => [d.id, d.reason]))).toMatchObject({
      '2026-11-21T020000Z': 'marked by an earlier prune',
      '2026-11-22T020000Z': 'partly deleted by an earlier prune',
      '2026-11-24T020000Z': 'newest, daily 2026-11-24',
      '2026-11-25T020000Z': 'marked by a prune, but no trusted backup is newer: not trusted, not deleted',
    });
    expect(plan.newest).toBe('2026-11-24T020000Z');
    await inspectBackups(dest, { policy: policy2, prune: true, apply: true, now });
    expect(await backupsIn(dest)).toEqual(['2026-11-23T020000Z', '2026-11-24T020000Z', '2026-11-25T020000Z']);
    await access(join(dest, '2026-11-25T020000Z', 'manifest.json'));
    expect((await inspectBackups(dest, { policy: policy2, checkPolicy: true, now })).problems).toEqual([]);
  });

  it('lists and prunes backups in S3 through rclone', async () => {
    const local = join(root, 's3-seed');
    for (const id of ['2026-11-23T020000Z', '2026-11-24T020000Z', '2026-11-25T020000Z']) await writeBackup(local, id);
    await writeBackup(local, '2026-11-01T020000Z', false);
    const s3 = await startS3({ root });
    try {
      const env = s3.rcloneEnv();
      const dest = s3.remotePath('postgres/crm');
      expect((await runShell(`rclone copy "${local}" "${dest}"`, env)).code).toBe(0);
      const report = await inspectBackups(dest, {
        env,
        policy: { daily: 2, weekly: 0, monthly: 0 },
        prune: true,
        apply: true,
        rpoMs: day,
        now,
      });
      expect(report.problems).toEqual([]);
      expect(report.deleted.sort()).toEqual(['2026-11-01T020000Z', '2026-11-23T020000Z']);
      const after = await inspectBackups(dest, { env, now });
      expect(after.backups.map((b) => [b.id, b.state])).toEqual([
        ['2026-11-24T020000Z', 'complete'],
        ['2026-11-25T020000Z', 'complete'],
      ]);
    } finally {
      await s3.stop();
    }
  });

  it('retention.prune expands to its inputs and a call of its function, dry run unless apply', () => {
    const context = { runbook: 'nightly', stepId: 'prune', secrets: [], rpo: '26h' };
    const dry = retentionPrune.expand({ dest: 'backup:backups/postgres/supabase' }, context);
    const dryInputs =
      "DEST=backup:backups/postgres/supabase\nKEEP_DAILY=7\nKEEP_WEEKLY=4\nKEEP_MONTHLY=6\nRPO=26h\nAPPLY=false\nSIGNERS=''\nALLOW_UNSIGNED=false";
    expect(dry.run).toBe(`${dryInputs}\nrb_retention_prune_run`);
    expect(dry.verify.run).toBe(`${dryInputs}\nrb_retention_prune_verify`);
    expect(retentionPrune.destructive({ dest: 'x' })).toBe(false);
    const apply = retentionPrune.expand({ dest: 'x y', keep: { daily: 3, weekly: 0 }, apply: true }, { ...context, rpo: undefined });
    expect(apply.run).toBe(
      `DEST='x y'\nKEEP_DAILY=3\nKEEP_WEEKLY=0\nKEEP_MONTHLY=6\nRPO=''\nAPPLY=true\nSIGNERS=''\nALLOW_UNSIGNED=false\nrb_retention_prune_run`,
    );
    expect(apply.verify.run).toMatch(/\nrb_retention_prune_verify$/);
    expect(retentionPrune.destructive({ dest: 'x', apply: true })).toBe(true);
  });

  it('retention.prune runs `runbook backups`: a dry run deletes nothing, apply leaves the policy set, an old newest backup refuses', async () => {
    const dest = join(root, 'action');
    const old = formatBackupId(new Date(Date.now() - 10 * day));
    const newer = formatBackupId(new Date(Date.now() - 2 * day));
    const newest = formatBackupId(new Date(Date.now() - 3_600_000));
    for (const id of [old, newer, newest]) await writeBackup(dest, id);
    const context = { runbook: 'nightly', stepId: 'prune', secrets: [], rpo: '26h' };
    const keep = { daily: 1, weekly: 0, monthly: 0 };
    // The `runbook` command exec puts on a step's PATH (the built CLI: run `npm run build` first).
    const shim = join(root, 'bin');
    await mkdir(shim);
    const cli = fileURLToPath(new URL('../../bin/runbook.js', import.meta.url));
    await writeFile(join(shim, 'runbook'), `#!/bin/sh\nexec '${process.execPath}' '${cli}' "$@"\n`, { mode: 0o755 });
    const inStep = (text: string) => runShell(text, { PATH: `${shim}:${systemPath()}` });

    const dry = retentionPrune.expand({ dest, keep, allow_unsigned: true }, context);
    const dryRun = await inStep(dry.run);
    expect(dryRun.code, dryRun.stderr).toBe(0);
    expect((await inStep(dry.verify.run)).code).toBe(0);
    expect(await backupsIn(dest)).toEqual([old, newer, newest].sort());
    // --check-policy fails while the backups the policy deletes are still there.
    expect((await inStep(retentionPrune.expand({ dest, keep, apply: true, allow_unsigned: true }, context).verify.run)).code).not.toBe(0);

    const apply = retentionPrune.expand({ dest, keep, apply: true, allow_unsigned: true }, context);
    const applied = await inStep(apply.run);
    expect(applied.code, applied.stderr).toBe(0);
    expect((await inStep(apply.verify.run)).code).toBe(0);
    expect(await backupsIn(dest)).toEqual([newest]);

    const stale = retentionPrune.expand({ dest, keep, apply: true, allow_unsigned: true }, { ...context, rpo: '30m' });
    const refused = await inStep(stale.run);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/refusing to prune/);
    expect((await inStep(stale.verify.run)).code).not.toBe(0);
    expect(await backupsIn(dest)).toEqual([newest]);
    // Without an RPO there is no age to judge: the listing alone passes.
    expect((await inStep(retentionPrune.expand({ dest, allow_unsigned: true }, { ...context, rpo: undefined }).verify.run)).code).toBe(0);
  });
});
