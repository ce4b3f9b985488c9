import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatBackupId } from '../../src/backup/id.js';
import { expectBuilt, runCli } from '../helpers/cli.js';
import { requireBinaries } from './shell.js';
import { handMadeManifest } from '../helpers/manifest.js';

describe('runbook backups DEST', () => {
  let dest: string;
  const recent = formatBackupId(new Date(Date.now() - 3_600_000));
  beforeAll(async () => {
    expectBuilt('cli/backups.js');
    requireBinaries('rclone');
    dest = await mkdtemp(join(tmpdir(), 'backups-cli-'));
    for (const id of ['2026-01-01T020000Z', recent]) {
      await mkdir(join(dest, id), { recursive: true });
      await writeFile(join(dest, id, 'd.bin'), 'x'.repeat(2048));
      await writeFile(
        join(dest, id, 'manifest.json'),
        JSON.stringify(
          handMadeManifest('postgres', id, {
            created: '2026-01-01T02:00:00Z',
            source: { database: 'app' },
            files: [
              {
                name: 'd.bin',
                bytes: 2048,
                sha256: id === recent ? createHash('sha256').update('x'.repeat(2048)).digest('hex') : 'a'.repeat(64),
              },
            ],
          }),
        ),
      );
    }
    await mkdir(join(dest, '2026-01-02T020000Z'));
    await writeFile(join(dest, '2026-01-02T020000Z', 'partial'), 'x');
  });
  afterAll(async () => {
    await rm(dest, { recursive: true, force: true });
  });

  it('prints a table of complete and incomplete backups and exits 0 when fresh', async () => {
    const result = await runCli(['backups', dest, '--rpo', '2h']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^BACKUP\s+AGE\s+SIZE\s+KIND\s+STATE\s+SIGNATURE\s+VERIFICATION$/m);
    expect(result.stdout).toMatch(
      new RegExp(`^${recent}\\s+1h 00m 0\\ds\\s+2\\.0 KiB\\s+postgres\\s+complete\\s+not checked\\s+manifest$`, 'm'),
    );
    expect(result.stdout).toMatch(/^2026-01-02T020000Z\s+.*\s+-\s+-\s+incomplete\s+not checked\s+no manifest$/m);
    expect(result.stdout).toContain('signatures: not checked (give --signers FILE to check them)');
    expect(result.stdout).toContain(`newest complete backup: ${recent}`);
  });

  it('exits 1 with one clear line when the newest backup is older than the RPO', async () => {
    const result = await runCli(['backups', dest, '--rpo', '30m']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      new RegExp(`^runbook: newest complete backup ${recent} is 1h 00m 0\\ds old, older than the RPO 30m 00s\\n$`),
    );
  });

  it('--verify re-hashes stored data: a match verifies, a mismatch fails; --format json returns the data', async () => {
    const result = await runCli(['backups', dest, '--verify', '--allow-unsigned', '--format', 'json']);
    expect(result.code).toBe(1);
    const report = JSON.parse(result.stdout);
    expect(report.backups.map((b: { id: string; verification: string }) => [b.id, b.verification.slice(0, 6)])).toEqual([
      ['2026-01-01T020000Z', 'not tr'],
      ['2026-01-02T020000Z', 'no man'],
      [recent, 'verifi'],
    ]);
  });

  it('rejects flags that do not combine as a usage error', async () => {
    expect((await runCli(['backups', dest, '--apply'])).code).toBe(2);
    expect((await runCli(['backups', dest, '--prune'])).code).toBe(2);
    expect((await runCli(['backups', dest, '--rpo', 'soon'])).code).toBe(2);
    expect((await runCli(['backups', dest, '--verify'])).code).toBe(2);
    expect((await runCli(['backups', dest, '--manifest-to', 'x'])).code).toBe(2);
  });
});
