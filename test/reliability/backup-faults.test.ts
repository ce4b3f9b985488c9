// Guarantee 1 — a backup is complete or it does not exist. Real faults in the middle of
// postgres.dump's pipeline: the compressor SIGKILLed, rclone SIGKILLed mid-(multipart-)upload, the
// connection to S3 cut after N bytes, S3 answering 503, the staging disk full. Each time: the step
// fails naming the cause, no folder with a manifest appears, staging is empty, and a re-run succeeds.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExpandContext } from '../../src/actions/action.js';
import { scriptFor } from '../../src/actions/library.js';
import { postgresDump } from '../../src/actions/postgres.dump/index.js';
import type { PostgresDumpInput } from '../../src/runbook/schema.generated.js';
import { inspectBackups } from '../../src/backup/inspect.js';
import { startPostgres, type PgCluster } from '../../tools/stack/postgres.js';
import { startS3, type S3Server } from '../../tools/stack/s3.js';
import { requireBinaries, runShell, runStep, expectOk } from '../backup/shell.js';
import { filesUnder, processes, startShell, waitUntil } from './helpers/processes.js';
import { startFaultyProxy } from './helpers/tcp-proxy.js';

const context: ExpandContext = { runbook: 'faults', stepId: 'dump', secrets: [] };

describe('a backup is complete or it does not exist', () => {
  let root: string;
  let staging: string;
  let pg: PgCluster;
  let s3: S3Server;
  const env = (extra: Record<string, string> = {}) => ({
    ...s3.rcloneEnv(),
    TMPDIR: staging,
    RCLONE_RETRIES: '1',
    RCLONE_LOW_LEVEL_RETRIES: '2',
    ...extra,
  });
  const expand = (prefix: string, extra: Partial<PostgresDumpInput> = {}) =>
    postgresDump.expand({ target: { host: pg.host, port: pg.port }, database: 'app', to: s3.remotePath(prefix), ...extra }, context);

  /** What a monitor and a restore would see under `prefix`: complete backups, and any stored file at all. */
  const stateOf = async (prefix: string) => {
    const report = await inspectBackups(s3.remotePath(prefix), { env: { ...s3.rcloneEnv(), RCLONE_CONFIG: '/dev/null' } });
    const objects = filesUnder(join(s3.dir, s3.bucket, prefix)).map((f) => f.slice(join(s3.dir, s3.bucket, prefix).length + 1));
    return {
      complete: report.backups.filter((b) => b.state === 'complete').map((b) => b.id),
      manifests: objects.filter((f) => f.includes('manifest.json')),
    };
  };

  const expectNothingLeft = async (prefix: string) => {
    expect(await stateOf(prefix)).toEqual({ complete: [], manifests: [] });
    expect(readdirSync(staging)).toEqual([]);
  };

  const expectRerunSucceeds = async (prefix: string) => {
    const again = await runStep(expand(prefix), root, env());
    expectOk(again.run, 're-run');
    expectOk(again.verify, 're-run verify');
    expect((await stateOf(prefix)).complete).toEqual([again.outputs.backup]);
    expect(readdirSync(staging)).toEqual([]);
  };

  /** The first process named `comm` inside the process group `pgid`. */
  const findInGroup = (pgid: number, comm: string) => processes().find((p) => p.pgrp === pgid && p.comm === comm && p.state !== 'Z');

  beforeAll(async () => {
    requireBinaries('psql', 'pg_dump', 'zstd', 'rclone', 'jq', 'sha256sum');
    root = await mkdtemp(join(tmpdir(), 'rel-backup-'));
    staging = join(root, 'staging');
    mkdirSync(staging);
    [pg, s3] = await Promise.all([startPostgres({ root, name: 'faults' }), startS3({ root })]);
    await pg.createDatabase('app');
    // ~13 MB of hex that compresses to ~7 MB: large enough for a multipart upload (5 MiB parts)
    // and for the pipeline to be caught mid-stream.
    await pg.psql(
      `CREATE TABLE blobs AS SELECT g AS id, md5(random()::text) || md5(random()::text) || md5(random()::text) AS v FROM generate_series(1, 130000) g`,
      'app',
    );
  }, 120_000);
  afterAll(async () => {
    await Promise.all([pg?.destroy(), s3?.stop()]);
    await rm(root, { recursive: true, force: true });
  });

  it('the compressor SIGKILLed mid-stream', async () => {
    // zstd -19 is slow: the pipeline is certainly still streaming when zstd dies.
    const shell = startShell(scriptFor(expand('kill-zstd', { level: 19 }).run), env());
    const zstd = await waitUntil(() => {
      const found = findInGroup(shell.pid, 'zstd');
      const file = readdirSync(staging).flatMap((d) =>
        existsSync(join(staging, d, 'dump.sql.zst')) ? [join(staging, d, 'dump.sql.zst')] : [],
      );
      return found && file.length > 0 ? found : undefined;
    }, 'zstd running and writing');
    process.kill(zstd.pid, 'SIGKILL');
    const result = await shell.result;
    expect(result.code).not.toBe(0);
    // pg_dump loses its reader: the message names the broken pipe (or zstd's death).
    expect(result.stderr).toMatch(/pg_dump|Broken pipe|zstd/i);
    await expectNothingLeft('kill-zstd');
    await expectRerunSucceeds('kill-zstd');
  }, 120_000);

  it('rclone SIGKILLed in the middle of a multipart upload', async () => {
    const multipart = { RCLONE_CONFIG_BACKUP_UPLOAD_CUTOFF: '5M', RCLONE_CONFIG_BACKUP_CHUNK_SIZE: '5M', RCLONE_BWLIMIT: '2M' };
    const shell = startShell(scriptFor(expand('kill-rclone').run), env(multipart));
    const uploads = join(s3.dir, s3.bucket, '._S3rver_uploads');
    const rclone = await waitUntil(
      () => {
        const found = findInGroup(shell.pid, 'rclone');
        return found && existsSync(uploads) && readdirSync(uploads).length > 0 ? found : undefined;
      },
      'a multipart upload in progress',
      60_000,
    );
    process.kill(rclone.pid, 'SIGKILL');
    const result = await shell.result;
    expect(result.code).toBe(137);
    await expectNothingLeft('kill-rclone');
    // The started multipart upload stays in the store (rclone was given no chance to abort it): it
    // is no object, not listed, not counted. `rclone cleanup` on S3 removes such uploads.
    expect(readdirSync(uploads).length).toBeGreaterThan(0);
    const listed = await runShell(`rclone lsf -R ${s3.remotePath('kill-rclone')} || true`, s3.rcloneEnv());
    expect(listed.stdout).toBe('');
    await expectRerunSucceeds('kill-rclone');
  }, 120_000);

  it('the connection to S3 cut after N bytes', async () => {
    const proxy = await startFaultyProxy({ host: '127.0.0.1', port: s3.port }, { kind: 'cut-after', bytes: 300_000 });
    try {
      const result = await runShell(expand('cut').run, env({ RCLONE_CONFIG_BACKUP_ENDPOINT: proxy.endpoint }));
      expect(result.code).not.toBe(0);
      expect(proxy.faults()).toBeGreaterThan(0);
      expect(result.stderr).toMatch(/Failed to copy/);
      expect(result.stderr).toMatch(/connection reset|EOF|broken pipe|connection refused|closed/i);
    } finally {
      await proxy.stop();
    }
    await expectNothingLeft('cut');
    await expectRerunSucceeds('cut');
  }, 120_000);

  it('S3 answering 503', async () => {
    const proxy = await startFaultyProxy({ host: '127.0.0.1', port: s3.port }, { kind: '503' });
    try {
      const result = await runShell(expand('unavailable').run, env({ RCLONE_CONFIG_BACKUP_ENDPOINT: proxy.endpoint }));
      expect(result.code).not.toBe(0);
      expect(proxy.faults()).toBeGreaterThan(0);
      expect(result.stderr).toMatch(/503|ServiceUnavailable|Service Unavailable/);
    } finally {
      await proxy.stop();
    }
    await expectNothingLeft('unavailable');
    await expectRerunSucceeds('unavailable');
  }, 120_000);

  it('the staging disk full (a 1 MiB tmpfs as staging)', async () => {
    const small = join(root, 'small-staging');
    mkdirSync(small);
    const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', small], { encoding: 'utf8' });
    // Root in this sandbox may mount tmpfs; if that is ever refused, fail loudly rather than skip.
    expect(mounted.status, `mount -t tmpfs refused: ${mounted.stderr}`).toBe(0);
    try {
      const result = await runShell(expand('full', { staging: small }).run, env());
      expect(result.code).not.toBe(0);
      expect(result.stderr).toMatch(/No space left on device/);
      expect(readdirSync(small)).toEqual([]);
      await expectNothingLeft('full');
    } finally {
      spawnSync('umount', [small]);
    }
    await expectRerunSucceeds('full');
  }, 120_000);
});
