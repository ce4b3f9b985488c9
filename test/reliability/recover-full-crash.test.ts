// Guarantee 3 on the real thing: the shipped recover-full runbook on the local demo stack, the
// engine SIGKILLed inside a step (its step's processes left running, as after a crash of the
// engine alone), then `runbook exec --resume`. The final state must equal the seeded one, no step
// verified before the crash runs again, the orphaned step processes are ended by the resume, and
// no scratch database is left. By default one step is sampled (inside the restore of the storage
// files); RUNBOOK_FULL_FAULTS=1 kills inside every step.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readJournal, type JournalRecord } from '../../src/engine/journal.js';
import { compareSnapshots, demoEnvironment } from '../../tools/stack/demo.js';
import { SERVICES, startStack, type Stack, type StackSnapshot } from '../../tools/stack/stack.js';
import { cli, expectBuilt, repository as root } from '../helpers/cli.js';
import { descendants, pidAlive, sleep, waitUntil } from './helpers/processes.js';
import { BACKUP_RUNBOOKS } from '../../tools/stack/runbooks.js';

const backups = BACKUP_RUNBOOKS;
const allSteps = [
  'prepare-host.disk',
  'prepare-host.docker',
  'prepare-host.config',
  'prepare-host.databases',
  'restore-supabase.restore',
  'restore-twenty.restore',
  'restore-gitea-db.restore',
  'restore-dam-db.restore',
  'restore-gitea-repos.restore',
  'restore-files.storage',
  'restore-files.dam',
  'dns',
  'services',
];
const full = process.env.RUNBOOK_FULL_FAULTS === '1';
// A database restore is killed by test/e2e/drill-resume.test.ts (the CRM's) and by the Docker
// cycle (Gitea's) already: the default sample is the files restore, which stages beside its target.
const sampled = full ? allSteps : ['restore-files.storage'];

const run = (args: readonly string[], env: NodeJS.ProcessEnv) => {
  const child = spawn(process.execPath, [cli, ...args], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const done = new Promise<{ code: number | null; output: string }>((resolve) => child.on('close', (code) => resolve({ code, output })));
  return { child, done };
};

describe('recover-full on the demo stack: SIGKILL of the engine inside a step, then --resume', () => {
  let stack: Stack;
  let before: StackSnapshot;
  let env: NodeJS.ProcessEnv;
  let common: string[];
  let stateDir: string;

  beforeAll(async () => {
    expectBuilt();
    stack = await startStack({ scale: 1 });
    const envFile = join(stack.root, 'stack.env');
    await stack.writeEnvFile(envFile);
    stateDir = join(stack.root, 'state');
    env = demoEnvironment({ RUNBOOK_STATE_DIR: stateDir, NO_COLOR: '1', RUNBOOK_KILL_GRACE_MS: '1000' });
    common = ['--env', 'demo', '--env-file', envFile, '--yes', '--allow-dirty', '--output', 'plain'];
    before = await stack.snapshot();
    for (const name of backups) {
      const backup = await run(['exec', `runbooks/${name}.yaml`, ...common], env).done;
      if (backup.code !== 0) throw new Error(`runbooks/${name}.yaml exited ${backup.code}:\n${backup.output}`);
    }
  }, 600_000);
  afterAll(async () => {
    await stack?.stop();
  });

  const newestJournal = () => {
    const runs = join(stateDir, 'runs');
    const id = readdirSync(runs).sort().at(-1)!;
    return join(runs, id, 'journal.jsonl');
  };
  const records = (): JournalRecord[] => {
    try {
      return readJournal(newestJournal()).records;
    } catch {
      return [];
    }
  };
  const scratchDatabases = async () => {
    const found: string[] = [];
    for (const service of SERVICES) {
      const names = await stack.clusters[service].psql(`SELECT datname FROM pg_database WHERE datname ~ '__(restore|replaced)(_[0-9]+)?$'`);
      found.push(
        ...names
          .split('\n')
          .filter(Boolean)
          .map((name) => `${service}: ${name}`),
      );
    }
    return found;
  };

  for (const step of sampled) {
    it(`inside ${step}`, async () => {
      await stack.destroyServices();
      await stack.recreateEmptyClusters();
      const runsBefore = existsSync(join(stateDir, 'runs')) ? readdirSync(join(stateDir, 'runs')).length : 0;
      const first = run(['exec', 'runbooks/recover-full.yaml', ...common], env);
      await waitUntil(() => readdirSync(join(stateDir, 'runs')).length > runsBefore, 'the recovery run to start');
      // Inside the step: its start is journaled and its processes run (a child of the engine that is not node).
      // A quick step may finish (or be skipped) before it is caught: then the kill lands on the
      // next boundary, which the full loop accepts; the default sample must land inside.
      const orphans = await waitUntil(
        () => {
          const seen = records();
          if (seen.some((r) => (r.type === 'step-skipped' || r.type === 'step-done') && r.id === step)) return full ? [] : undefined;
          if (!seen.some((r) => r.type === 'step-start' && r.id === step)) return undefined;
          const tree = descendants(first.child.pid!).filter((p) => p.comm !== 'node');
          return tree.length > 0 ? tree.map((p) => p.pid) : undefined;
        },
        `${step} to be running`,
        300_000,
        5,
      );
      await sleep(50);
      first.child.kill('SIGKILL');
      await first.done;
      const firstSession = records();
      const doneBefore = firstSession.filter((r) => r.type === 'step-done').map((r) => String(r.id));
      if (!full) expect(doneBefore, `${step} finished before the kill: not inside it`).not.toContain(step);

      const resumed = await run(['exec', 'runbooks/recover-full.yaml', ...common, '--resume'], env).done;
      expect(resumed.code, resumed.output).toBe(0);
      // The crashed attempt's processes were ended by the resume, not left to finish beside it.
      expect(orphans.filter(pidAlive), resumed.output).toEqual([]);
      const all = records();
      const second = all.slice(all.findIndex((r, i) => i > 0 && r.type === 'run-start'));
      // Nothing verified before the crash ran again; the interrupted step did.
      for (const id of doneBefore)
        expect(
          second.some((r) => r.type === 'step-start' && r.id === id),
          id,
        ).toBe(false);
      if (!doneBefore.includes(step) && !firstSession.some((r) => r.type === 'step-skipped' && r.id === step)) {
        expect(second.some((r) => (r.type === 'step-done' || r.type === 'step-skipped') && r.id === step)).toBe(true);
      }
      expect(second.at(-1)).toMatchObject({ type: 'run-end', outcome: 'success' });
      expect(compareSnapshots(before, await stack.snapshot())).toEqual([]);
      expect(await scratchDatabases()).toEqual([]);
    }, 600_000);
  }
});
