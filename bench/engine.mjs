// Engine overhead: 200 steps (`run: true`, `verify: test -d /`) through the real scheduler,
// journal fsyncs included, against a bash loop spawning the same 400 processes.
// Runnable alone: `node bench/engine.mjs` (after `npm run build`).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL, fileURLToPath } from 'node:url';

const steps = 200;
const rounds = 5;
const dist = new URL('../dist/engine/run.js', import.meta.url);
const spawnModule = new URL('../dist/engine/spawn.js', import.meta.url);

const makePlan = () => ({
  file: 'bench.yaml',
  name: 'bench',
  kind: 'task',
  contentHash: 'bench',
  protectedEnvironment: false,
  vars: {},
  secrets: [],
  requires: [],
  steps: Array.from({ length: steps }, (_, i) => ({
    id: `s${i}`,
    name: `step ${i}`,
    file: 'bench.yaml',
    line: 1,
    col: 1,
    kind: 'run',
    run: 'true',
    verify: { run: 'test -d /', retries: 0, intervalMs: 1000 },
    env: {},
    needs: [],
    retries: 0,
    continueOnError: false,
    cleanup: false,
    hash: `h${i}`,
    deferred: false,
  })),
  cleanup: [],
});

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

const timeBash = () => {
  const script = `for i in $(seq ${steps}); do bash -c true; bash -c 'test -d /'; done`;
  const started = performance.now();
  execFileSync('bash', ['-c', script]);
  return performance.now() - started;
};

// The same 400 processes started from Node with the engine's spawn (process group, pipes), no
// scheduler and no journal: separates the cost of forking from Node from the engine's own work.
const timeSpawnOnly = async (runShell) => {
  const started = performance.now();
  for (let i = 0; i < steps; i++) {
    await runShell({ text: 'true', env: process.env });
    await runShell({ text: 'test -d /', env: process.env });
  }
  return performance.now() - started;
};

const timeEngine = async (runPlan) => {
  const stateDir = mkdtempSync(join(tmpdir(), 'runbook-bench-'));
  try {
    const started = performance.now();
    const result = await runPlan({
      plan: makePlan(),
      stateDir,
      processEnv: process.env,
      secrets: {},
      runId: `bench-${Date.now()}`,
    });
    const elapsed = performance.now() - started;
    if (result.outcome !== 'success')
      throw new Error(`bench run failed: ${result.outcome}: ${JSON.stringify(result.steps.find((s) => s.status === 'failed'))}`);
    return elapsed;
  } finally {
    rmSync(stateDir, { recursive: true, force: true });
  }
};

export const run = async () => {
  const { runPlan } = await import(dist.href);
  const { runShell } = await import(spawnModule.href);
  await timeEngine(runPlan); // warm-up: module loading, page cache
  const bash = [];
  const engine = [];
  const spawnOnly = [];
  for (let i = 0; i < rounds; i++) {
    bash.push(timeBash());
    engine.push(await timeEngine(runPlan));
    spawnOnly.push(await timeSpawnOnly(runShell));
  }

  const perStepBash = median(bash) / steps;
  const perStepEngine = median(engine) / steps;
  const perStepSpawn = median(spawnOnly) / steps;
  return {
    name: 'engine',
    rows: [
      { what: `bash loop, ${steps} steps × (run + verify), per step`, value: +perStepBash.toFixed(2), unit: 'ms' },
      {
        what: `runbook engine, ${steps} steps × (run + verify + 2 fsynced journal records), per step`,
        value: +perStepEngine.toFixed(2),
        unit: 'ms',
        baseline: +perStepBash.toFixed(2),
        ratio: +(perStepEngine / perStepBash).toFixed(2),
      },
      {
        what: 'the same processes spawned from Node (own process group, piped output), no scheduler or journal, per step',
        value: +perStepSpawn.toFixed(2),
        unit: 'ms',
        baseline: +perStepBash.toFixed(2),
        ratio: +(perStepSpawn / perStepBash).toFixed(2),
      },
      { what: 'engine overhead per step over bash', value: +(perStepEngine - perStepBash).toFixed(2), unit: 'ms' },
    ],
  };
};

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href || fileURLToPath(import.meta.url) === process.argv[1]) {
  console.log(JSON.stringify(await run(), null, 2));
}
