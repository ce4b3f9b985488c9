// Backup pipeline: the engine's postgres.dump (through `runbook exec` on a one-step runbook) against
// the hand-written `pg_dump | compressor > file && rclone copy --checksum` on the same mixed-data
// database and the same kind of destination (a local folder), plus the engine's peak RSS.
// Runnable alone: `node bench/dump.mjs` (after `npm run build && npm run build:tools`). BENCH_DUMP_MB sets the database size
// (default 1024); BENCH_DUMP_RUNS how often the engine and the zstd pipeline run, alternated (default 3,
// medians reported); BENCH_DUMP_DEST=s3 uploads to a local s3rver instead of a folder.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('..', import.meta.url));
const dist = (path) => new URL(`../dist/${path}`, import.meta.url);
const stackModule = (name) => new URL(`../dist-tools/tools/stack/${name}`, import.meta.url);

/** bash -euo pipefail TEXT with env; returns wall seconds and peak RSS (MB) of the top process. */
const timed = (text, env, command = ['bash', '-euo', 'pipefail', '-c', text]) => {
  const started = process.hrtime.bigint();
  const result = spawnSync('/usr/bin/time', ['-f', '%M', ...command], { env, encoding: 'utf8', maxBuffer: 64 << 20 });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (result.status !== 0) throw new Error(`${command.slice(0, 3).join(' ')} failed (${result.status}): ${result.stderr.slice(-2000)}`);
  const rssKb = Number(result.stderr.trim().split('\n').pop());
  return { seconds, rssMb: rssKb / 1024, stdout: result.stdout };
};

/** Orders and events with text, md5 strings, timestamps, numerics and jsonb: compresses ~4×, not 100×. */
const seedSql = (mb) => {
  const orders = Math.round(mb * 2200);
  const events = Math.round(mb * 1470);
  return `CREATE TABLE orders (id bigserial PRIMARY KEY, customer text, email text, token text, amount numeric(12,2), created_at timestamptz, note text);
INSERT INTO orders (customer, email, token, amount, created_at, note)
  SELECT 'customer ' || (random() * 100000)::int, md5(i::text) || '@example.com', md5(random()::text), (random() * 10000)::numeric(12,2),
         now() - random() * interval '1000 days', repeat(md5(random()::text), 1 + (random() * 3)::int)
  FROM generate_series(1, ${orders}) i;
CREATE INDEX ON orders (created_at);
CREATE TABLE events (id bigserial PRIMARY KEY, order_id bigint, kind text, payload jsonb, at timestamptz);
INSERT INTO events (order_id, kind, payload, at)
  SELECT (random() * ${orders})::bigint, (ARRAY['created', 'paid', 'shipped', 'refunded'])[1 + (random() * 3)::int],
         jsonb_build_object('ip', md5(random()::text), 'n', random()), now() - random() * interval '500 days'
  FROM generate_series(1, ${events});
CREATE INDEX ON events (order_id);`;
};

/**
 * Seconds the step's verification took, from the run log: from the run's last line ("complete
 * backup", printed just before the run exits) to the step-done record. The hand-written pipeline has
 * no verification at all, so the engine is also compared without it.
 */
const verificationSeconds = (stateDir) => {
  const runs = join(stateDir, 'runs');
  const log = readFileSync(join(runs, readdirSync(runs)[0], 'log.txt'), 'utf8').split('\n');
  const at = (pattern) => Date.parse(log.find((line) => pattern.test(line))?.split(' ')[0] ?? '');
  const seconds = (at(/"type":"step-done"/) - at(/postgres\.dump: complete backup/)) / 1000;
  if (!Number.isFinite(seconds)) throw new Error('cannot find the run and verification times in the run log');
  return seconds;
};

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

const folderBytes = (dir) =>
  readdirSync(dir, { recursive: true })
    .map((name) => join(dir, String(name)))
    .filter((path) => statSync(path).isFile())
    .reduce((sum, path) => sum + statSync(path).size, 0);

export const run = async () => {
  if (!existsSync(dist('actions/postgres.dump/index.js'))) throw new Error('dist/ is missing: run `npm run build` first');
  if (!existsSync(stackModule('postgres.js'))) throw new Error('dist-tools/ is missing: run `npm run build:tools` first');
  const { startPostgres } = await import(stackModule('postgres.js'));
  const { startS3 } = await import(stackModule('s3.js'));
  const mb = Number(process.env.BENCH_DUMP_MB ?? 1024);
  const runs = Math.max(1, Number(process.env.BENCH_DUMP_RUNS ?? 3));
  const root = mkdtempSync(join(tmpdir(), 'bench-dump-'));
  const pg = await startPostgres({ root, name: 'bench' });
  const s3 = process.env.BENCH_DUMP_DEST === 's3' ? await startS3({ root, bucket: 'bench' }) : undefined;
  try {
    await pg.createDatabase('mixed');
    await pg.psql(seedSql(mb), 'mixed');
    await pg.psql('VACUUM ANALYZE', 'mixed');
    const dbBytes = Number((await pg.psql(`SELECT pg_database_size('mixed')`)).trim());
    const staging = join(root, 'staging');
    mkdirSync(staging);
    const env = { ...process.env, ...(s3?.rcloneEnv() ?? {}), TMPDIR: staging, RCLONE_CONFIG: '/dev/null' };
    delete env.AWS_CA_BUNDLE;
    const dest = (name) => (s3 ? s3.remotePath(name) : join(root, name));
    const target = `-h ${pg.host} -p ${pg.port} -U postgres -d mixed`;
    const handWritten = (compressor, suffix, name = `hand-${suffix}`) =>
      timed(
        `pg_dump ${target} | ${compressor} > ${staging}/dump.sql.${suffix} && rclone copy --checksum ${staging}/dump.sql.${suffix} ${dest(name)} && rm ${staging}/dump.sql.${suffix}`,
        env,
      );

    // Warm the cache once so the first contender does not pay for cold reads.
    execFileSync('bash', ['-c', `pg_dump ${target} > /dev/null`], { env });
    const runbookDir = join(root, 'runbooks');
    mkdirSync(runbookDir);
    /** One `runbook exec` into its own destination and state folder; its seconds, RSS and verification seconds. */
    const engineRun = (i) => {
      const file = join(runbookDir, `dump-${i}.yaml`);
      writeFileSync(
        file,
        `runbook: 1\nname: bench-dump\ndescription: Benchmark of postgres.dump.\nkind: backup\nschedule: '0 2 * * *'\nrequires: [psql, pg_dump, zstd, rclone, jq]\nsteps:\n  - id: dump\n    uses: postgres.dump\n    with:\n      target: { host: ${pg.host}, port: ${pg.port} }\n      database: mixed\n      to: ${dest(`engine-${i}`)}\n`,
      );
      const state = join(root, `state-${i}`);
      const result = timed('', env, [
        process.execPath,
        join(repo, 'bin/runbook.js'),
        'exec',
        file,
        '--allow-dirty',
        '--yes',
        '--output',
        'plain',
        '--state-dir',
        state,
      ]);
      return { ...result, verifySeconds: verificationSeconds(state) };
    };
    // Alternated, each into a fresh destination (an unchanged file would let rclone skip the upload);
    // the medians, because other work shares the machine.
    const engines = [];
    const zstds = [];
    for (let i = 0; i < runs; i++) {
      engines.push(engineRun(i));
      zstds.push(handWritten('zstd -q -3 -T2', 'zst', `hand-zst-${i}`));
    }
    const engine = { seconds: median(engines.map((r) => r.seconds)), rssMb: Math.max(...engines.map((r) => r.rssMb)) };
    const verifySeconds = median(engines.map((r) => r.verifySeconds));
    const runOnly = median(engines.map((r) => r.seconds - r.verifySeconds));
    const zstd = { seconds: median(zstds.map((r) => r.seconds)) };
    const gzip9 = handWritten('gzip -9', 'gz');
    const engineBytes = folderBytes(s3 ? join(s3.dir, 'bench', 'engine-0') : dest('engine-0'));
    const gzipBytes = s3 ? 0 : folderBytes(dest('hand-gz'));
    const dbMb = dbBytes / 1e6;
    return {
      name: 'dump',
      rows: [
        {
          what: `database size (BENCH_DUMP_MB=${mb}, ${s3 ? 's3rver' : 'local folder'} destination, median of ${runs} runs)`,
          value: dbMb,
          unit: 'MB',
        },
        // The hand-written baseline verifies nothing; the engine's total includes its verification (one read-back).
        {
          what: 'postgres.dump via runbook exec, run + verification (baseline: hand-written zstd pipeline, no verification)',
          value: engine.seconds,
          unit: 's',
          baseline: zstd.seconds,
          ratio: engine.seconds / zstd.seconds,
        },
        {
          what: 'throughput: postgres.dump, run + verification',
          value: dbMb / engine.seconds,
          unit: 'MB/s',
          baseline: dbMb / zstd.seconds,
          ratio: zstd.seconds / engine.seconds,
        },
        {
          what: 'postgres.dump via runbook exec, without the verification (dump, counts, upload, manifest)',
          value: runOnly,
          unit: 's',
          baseline: zstd.seconds,
          ratio: runOnly / zstd.seconds,
        },
        {
          what: 'throughput: postgres.dump, run alone',
          value: dbMb / runOnly,
          unit: 'MB/s',
          baseline: dbMb / zstd.seconds,
          ratio: zstd.seconds / runOnly,
        },
        {
          what: 'verification alone (fetch the manifest, stream the stored files once through sha256 — openssl where present — list their sizes)',
          value: verifySeconds,
          unit: 's',
        },
        {
          what: 'hand-written pg_dump | gzip -9 > file && rclone copy --checksum',
          value: gzip9.seconds,
          unit: 's',
          baseline: zstd.seconds,
          ratio: gzip9.seconds / zstd.seconds,
        },
        { what: 'engine peak RSS (runbook exec process)', value: engine.rssMb, unit: 'MB', goal: '< 150 MB, flat in database size' },
        {
          what: 'backup size: postgres.dump (zstd -3)',
          value: engineBytes / 1e6,
          unit: 'MB',
          ...(gzipBytes ? { baseline: gzipBytes / 1e6, ratio: engineBytes / gzipBytes } : {}),
        },
      ],
    };
  } finally {
    await pg.destroy();
    await s3?.stop();
    rmSync(root, { recursive: true, force: true });
  }
};

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const result = await run();
  for (const row of result.rows)
    console.log(
      `- ${row.what}: ${row.value.toFixed(2)} ${row.unit}${row.baseline !== undefined ? `   baseline ${row.baseline.toFixed(2)}   ratio ${row.ratio.toFixed(2)}×` : ''}`,
    );
}
