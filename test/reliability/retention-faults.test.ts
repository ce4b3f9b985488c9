// Guarantee 6 — retention never destroys the last good backup: the newest backups failed or
// unverified (no manifest, a corrupt manifest, data that does not match), a folder dated in the
// future, the real CLI prune SIGKILLed half way then re-run, and days/weeks/months taken in UTC
// whatever the machine's time zone.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatBackupId } from '../../src/backup/id.js';
import { inspectBackups } from '../../src/backup/inspect.js';
import { requireBinaries } from '../backup/shell.js';
import { cliEnv, exited, expectBuilt, runCli, startCli } from '../helpers/cli.js';
import { waitUntil } from './helpers/processes.js';
import { handMadeManifest } from '../helpers/manifest.js';

const hour = 3_600_000;
const day = 24 * hour;

/** A backup folder with a data file and, unless told otherwise, a manifest whose sha256 matches. */
const writeBackup = (dest: string, id: string, manifest: 'good' | 'none' | 'corrupt' | 'wrong-sha' = 'good') => {
  mkdirSync(join(dest, id), { recursive: true });
  const data = `data of ${id}\n`;
  writeFileSync(join(dest, id, 'data.txt'), data);
  const sha256 = manifest === 'wrong-sha' ? '0'.repeat(64) : createHash('sha256').update(data).digest('hex');
  const body = JSON.stringify(
    handMadeManifest('files', id, { created: '2026-01-01T00:00:00Z', files: [{ name: 'data.txt', bytes: data.length, sha256 }] }),
  );
  if (manifest === 'none') return;
  writeFileSync(join(dest, id, 'manifest.json'), manifest === 'corrupt' ? body.slice(0, 30) : body);
};
const idAt = (time: number) => formatBackupId(new Date(time));
const folders = (dest: string) =>
  readdirSync(dest)
    .filter((name) => /^\d{4}-/.test(name))
    .sort();
const withManifest = (dest: string) => folders(dest).filter((id) => existsSync(join(dest, id, 'manifest.json')));

let root: string;
beforeAll(() => {
  requireBinaries('rclone');
  expectBuilt();
  root = mkdtempSync(join(tmpdir(), 'rel-retention-'));
}, 120_000);
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('retention never destroys the last good backup', () => {
  const now = new Date('2026-11-25T12:00:00Z');
  const at = (iso: string) => Date.parse(iso);

  it('newest backups incomplete or with a corrupt manifest do not count: the last good one is kept', async () => {
    const dest = join(root, 'bad-newest');
    writeBackup(dest, idAt(at('2026-11-20T02:00:00Z')));
    writeBackup(dest, idAt(at('2026-11-21T02:00:00Z'))); // the last good one
    writeBackup(dest, idAt(at('2026-11-23T02:00:00Z')), 'none'); // died two days ago
    writeBackup(dest, idAt(at('2026-11-24T02:00:00Z')), 'corrupt');
    writeBackup(dest, idAt(at('2026-11-25T02:00:00Z')), 'none'); // died last night
    const report = await inspectBackups(dest, { policy: { daily: 1, weekly: 0, monthly: 0 }, prune: true, apply: true, now });
    expect(report.newest).toBe('2026-11-21T020000Z');
    expect(folders(dest)).toContain('2026-11-21T020000Z');
    expect(withManifest(dest)).toContain('2026-11-21T020000Z');
    // The damaged one is left for a person; the incomplete ones younger than a day may still be running.
    expect(folders(dest)).toEqual(['2026-11-21T020000Z', '2026-11-24T020000Z', '2026-11-25T020000Z']);
  });

  it('with --verify, a newest backup whose data does not match its manifest does not count', async () => {
    const dest = join(root, 'unverified-newest');
    writeBackup(dest, idAt(at('2026-11-23T02:00:00Z')));
    writeBackup(dest, idAt(at('2026-11-24T02:00:00Z')));
    writeBackup(dest, idAt(at('2026-11-25T02:00:00Z')), 'wrong-sha');
    const report = await inspectBackups(dest, { policy: { daily: 1, weekly: 0, monthly: 0 }, prune: true, apply: true, verify: true, now });
    expect(report.newest).toBe('2026-11-24T020000Z');
    expect(report.problems).toContainEqual(expect.stringMatching(/^2026-11-25T020000Z is not trusted: data does not match the manifest/));
    expect(folders(dest)).toEqual(['2026-11-24T020000Z', '2026-11-25T020000Z']);
  });

  it('a folder dated in the future is neither the newest nor deleted', async () => {
    const dest = join(root, 'future');
    writeBackup(dest, idAt(at('2026-11-24T02:00:00Z')));
    writeBackup(dest, idAt(at('2026-11-25T02:00:00Z')));
    writeBackup(dest, idAt(at('2031-01-01T02:00:00Z')));
    const report = await inspectBackups(dest, { policy: { daily: 1, weekly: 0, monthly: 0 }, prune: true, apply: true, now });
    expect(report.newest).toBe('2026-11-25T020000Z');
    expect(folders(dest)).toEqual(['2026-11-25T020000Z', '2031-01-01T020000Z']);
  });

  it('the CLI prune SIGKILLed after its first deletion leaves nothing counted that is half-deleted; a re-run converges', async () => {
    const dest = join(root, 'killed');
    const start = Date.now() - 90 * day;
    const ids: string[] = [];
    for (let i = 0; i < 90; i++) ids.push(idAt(start + i * day + 2 * hour));
    for (const id of ids) writeBackup(dest, id);
    const newestGood = ids.at(-1)!;
    const keep = ids.slice(-3);
    const args = [
      'backups',
      dest,
      '--prune',
      '--apply',
      '--allow-unsigned',
      '--keep-daily',
      '3',
      '--keep-weekly',
      '0',
      '--keep-monthly',
      '0',
    ];
    const child = startCli(args, { cwd: root });
    // Deletions go oldest first, after every folder was marked and lost its manifest.
    await waitUntil(() => !existsSync(join(dest, ids[0]!)), 'the first folder to be deleted', 60_000, 5);
    child.kill('SIGKILL');
    await exited(child);
    const left = folders(dest);
    expect(left.length, 'the prune was killed before it finished').toBeGreaterThan(3);
    // What is left but not kept is visibly unfinished: marked and without a manifest, never counted.
    for (const id of left.filter((id) => !keep.includes(id))) expect(existsSync(join(dest, id, 'manifest.json')), id).toBe(false);
    const between = await inspectBackups(dest, {});
    expect(between.newest).toBe(newestGood);
    expect(between.backups.filter((b) => b.state === 'complete').map((b) => b.id)).toEqual(keep);

    const again = await runCli(args, { cwd: root });
    expect(again.code, again.stderr).toBe(0);
    expect(folders(dest)).toEqual(keep);
    expect(withManifest(dest)).toEqual(keep);
    const check = await runCli(['backups', dest, '--check-policy', '--keep-daily', '3', '--keep-weekly', '0', '--keep-monthly', '0'], {
      cwd: root,
    });
    expect(check.code, check.stdout + check.stderr).toBe(0);
  }, 120_000);

  it('days, weeks and months are UTC: the same kept set under TZ=Pacific/Kiritimati, America/Adak and UTC', async () => {
    const dest = join(root, 'zones');
    // Backups just before and after UTC midnight, and around week and month boundaries: local-time
    // bucketing (UTC+14 / UTC−10) would put them in other days, weeks and months.
    const base = new Date();
    base.setUTCHours(0, 0, 0, 0);
    for (let d = 1; d <= 75; d++) {
      const midnight = base.getTime() - d * day;
      writeBackup(dest, idAt(midnight - 30 * 60_000));
      writeBackup(dest, idAt(midnight + 30 * 60_000));
      if (d % 3 === 0) writeBackup(dest, idAt(midnight + 11 * hour));
    }
    const kept = async (tz: string) => {
      const result = await runCli(
        [
          'backups',
          dest,
          '--prune',
          '--allow-unsigned',
          '--keep-daily',
          '5',
          '--keep-weekly',
          '4',
          '--keep-monthly',
          '3',
          '--format',
          'json',
        ],
        { cwd: root, env: cliEnv({ TZ: tz }) },
      );
      expect(result.code, result.stderr).toBe(0);
      const report = JSON.parse(result.stdout) as { decisions: { id: string; action: string; reason: string }[] };
      return report.decisions.filter((d) => d.action === 'keep').map((d) => `${d.id} ${d.reason}`);
    };
    const utc = await kept('UTC');
    expect(utc.length).toBeGreaterThanOrEqual(5 + 3);
    expect(await kept('Pacific/Kiritimati')).toEqual(utc);
    expect(await kept('America/Adak')).toEqual(utc);
    // Nothing was deleted: these were dry runs.
    expect(folders(dest).length).toBeGreaterThan(150);
  }, 60_000);
});
