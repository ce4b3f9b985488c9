// Guarantee 2 — nothing is restored from bad bytes: a truncated object, a manifest whose sha256
// disagrees, a damaged manifest, and a hand-made backup whose SQL fails half way (with a correct
// checksum). Each time postgres.restore fails, the target database is unchanged (content
// checksums compared) and no scratch database is left behind.
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, afterEach, describe, expect, it } from 'vitest';
import type { ExpandContext } from '../../src/actions/action.js';
import { postgresDump } from '../../src/actions/postgres.dump/index.js';
import { formatBackupId } from '../../src/backup/id.js';
import { postgresRestore } from '../../src/actions/postgres.restore/index.js';
import { startPostgres, type PgCluster } from '../../tools/stack/postgres.js';
import { startS3, type S3Server } from '../../tools/stack/s3.js';
import { expectOk, requireBinaries, runShell, runStep } from '../backup/shell.js';
import { seedMixed, tableContents } from '../actions/postgres-fixture.js';

const context: ExpandContext = { runbook: 'faults', stepId: 'restore', secrets: [] };

describe('nothing is restored from bad bytes', () => {
  let root: string;
  let source: PgCluster;
  let target: PgCluster;
  let s3: S3Server;
  let backupId: string;
  let before: Record<string, string>;
  const env = () => ({ ...s3.rcloneEnv(), TMPDIR: join(root, 'staging') });
  const from = () => s3.remotePath('postgres/app');
  const restore = (backup = 'latest') =>
    postgresRestore.expand(
      { allow_unsigned: true, target: { host: target.host, port: target.port }, database: 'app', from: from(), backup, replace: true },
      context,
    );
  const databases = async () =>
    (await target.psql(`SELECT string_agg(datname, ',' ORDER BY datname) FROM pg_database WHERE datname NOT LIKE 'template%'`)).trim();

  /** Restores and expects a refusal naming `cause`, with the target untouched. */
  const expectRefused = async (cause: RegExp, backup = 'latest') => {
    const { run } = await runStep(restore(backup), root, env());
    expect(run.code, run.stderr).not.toBe(0);
    expect(run.stderr).toMatch(cause);
    expect(await tableContents(target, 'app')).toEqual(before);
    expect(await databases()).toBe('app,postgres');
  };

  beforeAll(async () => {
    requireBinaries('psql', 'pg_dump', 'zstd', 'rclone', 'jq', 'sha256sum');
    root = await mkdtemp(join(tmpdir(), 'rel-restore-'));
    await mkdir(join(root, 'staging'));
    [source, target, s3] = await Promise.all([
      startPostgres({ root, name: 'source' }),
      startPostgres({ root, name: 'target' }),
      startS3({ root }),
    ]);
    await seedMixed(source, 'app', 500);
    const dump = await runStep(
      postgresDump.expand({ target: { host: source.host, port: source.port }, database: 'app', to: from() }, context),
      root,
      env(),
    );
    expectOk(dump.run, 'dump');
    backupId = dump.outputs.backup!;
    // The target holds a different, live database that a bad restore must not touch.
    await target.createDatabase('app');
    await target.psql(
      `CREATE TABLE live (id int PRIMARY KEY, v text); INSERT INTO live SELECT g, md5(g::text) FROM generate_series(1, 300) g;`,
      'app',
    );
    before = await tableContents(target, 'app');
  }, 120_000);
  afterAll(async () => {
    await Promise.all([source?.destroy(), target?.destroy(), s3?.stop()]);
    await rm(root, { recursive: true, force: true });
  });

  describe('with the stored backup damaged', () => {
    let dataFile: string;
    let manifestFile: string;
    let data: Buffer;
    let manifest: Buffer;
    beforeEach(async () => {
      dataFile = s3.objectFile(`postgres/app/${backupId}/dump.sql.zst`);
      manifestFile = s3.objectFile(`postgres/app/${backupId}/manifest.json`);
      [data, manifest] = await Promise.all([readFile(dataFile), readFile(manifestFile)]);
    });
    afterEach(async () => {
      await Promise.all([writeFile(dataFile, data), writeFile(manifestFile, manifest)]);
    });

    it('a truncated object in the store', async () => {
      await truncate(dataFile, Math.floor(data.length / 2));
      // The listing's size already disagrees: the backup is not trusted, nothing is downloaded.
      await expectRefused(
        new RegExp(`"dump\\.sql\\.zst" is ${Math.floor(data.length / 2)} bytes in the store, the manifest says ${data.length}`),
      );
    });

    it('a manifest whose sha256 disagrees with the bytes', async () => {
      const parsed = JSON.parse(manifest.toString('utf8'));
      parsed.files[0].sha256 = createHash('sha256').update('something else').digest('hex');
      await writeFile(manifestFile, JSON.stringify(parsed));
      await expectRefused(/manifest says \d+ bytes, sha256 [0-9a-f]{64}.*The database was not touched/);
    });

    it('a manifest that does not parse', async () => {
      await writeFile(manifestFile, manifest.subarray(0, manifest.length - 20));
      await expectRefused(/manifest\.json does not parse/);
    });
  });

  it('a dump whose SQL fails half way, with a correct checksum in its manifest', async () => {
    // The newest (`latest` picks it), a minute ahead of the good one: within the allowed clock skew.
    const id = formatBackupId(new Date(Date.now() + 60_000));
    const sql = [
      'CREATE TABLE first_half (id int);',
      'INSERT INTO first_half SELECT generate_series(1, 1000);',
      'DROP TABLE IF EXISTS live;',
      'SELECT 1 / 0;', // the error in the middle
      'CREATE TABLE second_half (id int);',
      '',
    ].join('\n');
    const folder = join(root, 'crafted', id);
    await mkdir(folder, { recursive: true });
    await writeFile(join(folder, 'dump.sql'), sql);
    expectOk(await runShell(`zstd -q -f --rm "${folder}/dump.sql" -o "${folder}/dump.sql.zst"`), 'compress');
    const bytes = await readFile(join(folder, 'dump.sql.zst'));
    await writeFile(
      join(folder, 'manifest.json'),
      JSON.stringify({
        format: 'runbook-backup/1',
        kind: 'postgres',
        id,
        created: new Date(Date.now() + 60_000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
        source: { database: 'app', host: '127.0.0.1', port: 1 },
        files: [{ name: 'dump.sql.zst', bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') }],
        tables: { 'public.first_half': 1000, 'public.second_half': 0 },
        server_version: '15',
        dump: { format: 'plain', compress: 'zstd' },
        runbook: { name: 'crafted', commit: '', run_id: '', step: '' },
      }),
    );
    expectOk(await runShell(`rclone copy "${join(root, 'crafted')}" "${from()}"`, env()), 'upload crafted backup');
    try {
      await expectRefused(/division by zero/);
    } finally {
      await runShell(`rclone purge "${from()}/${id}"`, env());
    }
    // The good backup still restores over it, proving the refusals above were about the bytes.
    const { run } = await runStep(restore(backupId), root, env());
    expectOk(run, 'restore of the good backup');
    expect(await tableContents(target, 'app')).toEqual(await tableContents(source, 'app'));
  }, 120_000);
});
