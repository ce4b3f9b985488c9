// Full drill time: the hand-written bash recovery (bench/drill-baseline.sh) against
// `runbook exec runbooks/recover-full.yaml` with --concurrency 1 and 2, on the same local stack and
// the same backups. The stack is started and backed up once; before every timed variant the
// services are destroyed and empty clusters recreated (not timed), and after it every table, file
// and git ref is compared with the state before (not timed), so no variant can win by skipping work.
// Runnable alone: `node bench/drill.mjs` (after `npm run build && npm run build:tools`). BENCH_DRILL_SCALE sets the stack's
// scale (default 20: about 110 MB of PostgreSQL data); BENCH_DRILL_ROUNDS how often each variant
// runs, interleaved (default 2, medians reported).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('..', import.meta.url));
const cli = join(repo, 'bin', 'runbook.js');
const { BACKUP_RUNBOOKS: backups } = await import(new URL('../dist-tools/tools/stack/runbooks.js', import.meta.url));

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};

/** Runs a command to completion; returns wall seconds; throws with its output on failure. */
const timed = (command, args, env) => {
  const started = process.hrtime.bigint();
  const result = spawnSync(command, args, { cwd: repo, env, encoding: 'utf8', maxBuffer: 64 << 20 });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (result.status !== 0)
    throw new Error(`${[command, ...args].join(' ')} failed (${result.status}):\n${(result.stdout + result.stderr).slice(-3000)}`);
  return seconds;
};

export const run = async () => {
  const { startStack } = await import(new URL('../dist-tools/tools/stack/stack.js', import.meta.url));
  const { compareSnapshots, demoEnvironment } = await import(new URL('../dist-tools/tools/stack/demo.js', import.meta.url));
  const scale = Number(process.env.BENCH_DRILL_SCALE ?? 20);
  const rounds = Number(process.env.BENCH_DRILL_ROUNDS ?? 2);
  const stack = await startStack({ scale });
  const state = mkdtempSync(join(tmpdir(), 'runbook-bench-drill-'));
  try {
    const envFile = join(stack.root, 'stack.env');
    await stack.writeEnvFile(envFile);
    const env = demoEnvironment({ ...stack.env(), RUNBOOK_STATE_DIR: state, NO_COLOR: '1' });
    const common = ['--env', 'demo', '--env-file', envFile, '--yes', '--allow-dirty', '--output', 'plain'];
    const before = await stack.snapshot();
    for (const name of backups) timed(process.execPath, [cli, 'exec', `runbooks/${name}.yaml`, ...common], env);

    const variants = {
      bash: () => timed('bash', [join(repo, 'bench', 'drill-baseline.sh')], env),
      engine1: () => timed(process.execPath, [cli, 'exec', 'runbooks/recover-full.yaml', ...common, '--concurrency', '1'], env),
      engine2: () => timed(process.execPath, [cli, 'exec', 'runbooks/recover-full.yaml', ...common, '--concurrency', '2'], env),
    };
    const times = { bash: [], engine1: [], engine2: [] };
    for (let round = 0; round < rounds; round++) {
      for (const [name, variant] of Object.entries(variants)) {
        await stack.destroyServices();
        await stack.recreateEmptyClusters();
        times[name].push(variant());
        const differences = compareSnapshots(before, await stack.snapshot());
        if (differences.length) throw new Error(`${name} did not restore exactly: ${differences.join(', ')}`);
      }
    }
    const bash = median(times.bash);
    const one = median(times.engine1);
    const two = median(times.engine2);
    return {
      name: 'drill',
      rows: [
        { what: `hand-written bash recovery (bench/drill-baseline.sh), scale ${scale}, median of ${rounds}`, value: bash, unit: 's' },
        {
          what: 'runbook exec runbooks/recover-full.yaml --concurrency 1',
          value: one,
          unit: 's',
          baseline: bash,
          ratio: one / bash,
          goal: '≤ 1.10×',
        },
        {
          what: 'runbook exec runbooks/recover-full.yaml --concurrency 2',
          value: two,
          unit: 's',
          baseline: bash,
          ratio: two / bash,
          goal: 'faster than --concurrency 1',
        },
      ],
      times,
    };
  } finally {
    await stack.stop();
    rmSync(state, { recursive: true, force: true });
  }
};

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const result = await run();
  for (const row of result.rows) {
    process.stdout.write(
      `- ${row.what}: ${row.value.toFixed(2)} ${row.unit}${row.ratio !== undefined ? `   ratio ${row.ratio.toFixed(2)}×` : ''}${row.goal ? `   (goal ${row.goal})` : ''}\n`,
    );
  }
  process.stdout.write(
    `all runs (s): ${JSON.stringify(Object.fromEntries(Object.entries(result.times).map(([k, v]) => [k, v.map((s) => Number(s.toFixed(2)))])))}\n`,
  );
}
