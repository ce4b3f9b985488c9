// A drill whose engine dies (SIGKILL: no cleanup, no journal flush beyond what was fsynced) in the
// middle of the CRM restore, with the restore's own process group killed too, as a lost VPS would.
// `runbook exec … --resume` must then reach the same final state: every table, file and git ref,
// and the DNS record.
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readJournal } from '../../src/engine/journal.js';
import { compareSnapshots, demoEnvironment } from '../../tools/stack/demo.js';
import { startStack, type Stack, type StackSnapshot } from '../../tools/stack/stack.js';
import { cli, runCli } from '../helpers/cli.js';
import { BACKUP_RUNBOOKS } from '../../tools/stack/runbooks.js';
import { childrenOf } from '../../tools/stack/processes.js';

const repo = resolve(import.meta.dirname, '../..');
const backups = BACKUP_RUNBOOKS;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * `pid` and every process below it, from one pass over /proc: only the engine's own processes, not
 * another test's. One pass, because a poll must take milliseconds while a Docker engine's processes
 * crowd /proc, or the restore it looks for is over before it has looked.
 */
const treeOf = (pid: number): Set<number> => {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(parent, [...(children.get(parent) ?? []), Number(entry)]);
    } catch {
      // gone meanwhile
    }
  }
  const tree = new Set([pid]);
  for (const member of tree) for (const child of children.get(member) ?? []) tree.add(child);
  return tree;
};

/**
 * Scratch databases a psql of the engine `pid` is loading into (`psql … -d NAME`), read from /proc.
 * Only the engine's process tree counts: another test's restore of the same name runs meanwhile.
 */
const loadingInto = (pid: number, name: RegExp): string[] => {
  const found = new Set<string>();
  for (const process of treeOf(pid)) {
    let argv: string[];
    try {
      argv = readFileSync(`/proc/${process}/cmdline`, 'utf8').split('\0');
    } catch {
      continue;
    }
    if (!argv[0]?.endsWith('psql')) continue;
    const database = argv[argv.indexOf('-d') + 1];
    if (argv.includes('--single-transaction') && database && name.test(database)) found.add(database);
  }
  return [...found];
};

const killGroup = (pgid: number) => {
  try {
    process.kill(-pgid, 'SIGKILL');
  } catch {
    // already gone
  }
};

describe('a drill killed in the middle of the CRM restore, then exec --resume', () => {
  let stack: Stack;
  let before: StackSnapshot;
  let killedAt: { scratch: string[]; groups: number[] };
  let resumed: { code: number | null; output: string };
  let leftovers: string[];
  let runDir: string;

  beforeAll(async () => {
    stack = await startStack({ scale: 5 });
    const envFile = join(stack.root, 'stack.env');
    await stack.writeEnvFile(envFile);
    const stateDir = join(stack.root, 'state');
    const env = demoEnvironment({ RUNBOOK_STATE_DIR: stateDir, NO_COLOR: '1' });
    const common = ['--env', 'demo', '--env-file', envFile, '--yes', '--allow-dirty', '--output', 'plain'];
    before = await stack.snapshot();
    for (const name of backups) {
      const run = await runCli(['exec', `runbooks/${name}.yaml`, ...common], { env });
      if (run.code !== 0) throw new Error(`runbooks/${name}.yaml exited ${run.code}:\n${run.output}`);
    }
    await stack.destroyServices();
    await stack.recreateEmptyClusters();

    const engine = spawn(
      process.execPath,
      [cli, 'drill', 'runbooks/recover-full.yaml', ...common, '--report-dir', join(stack.root, 'reports')],
      { cwd: repo, env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    // Kept for the message when the drill ends before the moment this test waits for.
    const output: Buffer[] = [];
    engine.stdout!.on('data', (chunk: Buffer) => output.push(chunk));
    engine.stderr!.on('data', (chunk: Buffer) => output.push(chunk));
    const exited = new Promise<void>((r) => engine.on('close', () => r()));
    // The restore is in its middle once psql loads data into its scratch database (not yet renamed).
    let scratch: string[] = [];
    let gone = false;
    void exited.then(() => (gone = true));
    while (!gone && !scratch.length) {
      scratch = loadingInto(engine.pid!, /^twenty__restore$/);
      if (!scratch.length) await sleep(5);
    }
    if (!scratch.length)
      throw new Error(`the CRM restore never reached its scratch database; the drill printed:\n${Buffer.concat(output)}`);
    // Children first: once the engine is dead they are re-parented and no longer findable by it.
    const groups = childrenOf(engine.pid!);
    engine.kill('SIGKILL');
    for (const group of groups) killGroup(group);
    await exited;
    killedAt = { scratch, groups };
    // The state folder holds the backups' runs too; run ids sort by time, the drill's is the newest.
    runDir = join(stateDir, 'runs', readdirSync(join(stateDir, 'runs')).sort().at(-1)!);
    expect(readJournal(join(runDir, 'journal.jsonl')).records[0]).toMatchObject({ type: 'run-start', runbook: 'recover-full' });

    resumed = await runCli(['exec', 'runbooks/recover-full.yaml', ...common, '--resume'], { env });
    leftovers = (await stack.clusters.twenty.psql(`SELECT datname FROM pg_database WHERE datname LIKE 'twenty\\_\\_%' ORDER BY 1`))
      .split('\n')
      .filter(Boolean);
  }, 600_000);

  afterAll(async () => {
    await stack?.stop();
  });

  it('was killed while the CRM restore ran, with its process group', () => {
    expect(killedAt.groups.length).toBeGreaterThan(0);
    const { records } = readJournal(join(runDir, 'journal.jsonl'));
    const firstSession = records.slice(
      0,
      records.findIndex((r, i) => i > 0 && r.type === 'run-start'),
    );
    expect(firstSession.some((r) => r.type === 'step-done' && r.id === 'restore-supabase.restore')).toBe(true);
    expect(firstSession.some((r) => r.type === 'step-done' && r.id === 'restore-twenty.restore')).toBe(false);
    expect(firstSession.some((r) => r.type === 'run-end')).toBe(false);
  });

  it('resumes: supabase is not restored again, the CRM restore runs again and everything after it', () => {
    expect(resumed.output).toMatch(/took over a stale lock/);
    expect(resumed.code, resumed.output).toBe(0);
    const { records } = readJournal(join(runDir, 'journal.jsonl'));
    const second = records.slice(records.findIndex((r, i) => i > 0 && r.type === 'run-start'));
    expect(second.some((r) => r.type === 'step-start' && r.id === 'restore-supabase.restore')).toBe(false);
    expect(second.some((r) => r.type === 'step-done' && r.id === 'restore-twenty.restore')).toBe(true);
    expect(second.at(-1)).toMatchObject({ type: 'run-end', outcome: 'success' });
  });

  it('reaches the same final state as an uninterrupted drill', async () => {
    expect(compareSnapshots(before, await stack.snapshot())).toEqual([]);
    expect(await stack.dns!.query('crm')).toEqual(['198.51.100.7']);
  });

  // A SIGKILL skips the restore's EXIT trap; the resumed attempt removes the scratch copy it left.
  it('leaves no scratch database of the killed restore behind', () => {
    expect(killedAt.scratch).toHaveLength(1);
    expect(leftovers).toEqual([]);
  });
});
