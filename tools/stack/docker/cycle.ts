// The production cycle on a real Docker engine: the production-shaped stack started from its
// configuration repository and seeded, the shipped backup runbooks with the stack's shipped
// environment (demo-docker.yaml: production.yaml's shape, this machine's endpoints), the disaster
// (nothing left but the bucket and the keys), `runbook drill runbooks/recover-full.yaml`, and the
// comparison of everything, the applications' health checks and DNS.
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startRunbook } from '../demo.js';
import { systemPath } from '../run.js';
import { startS3 } from '../s3.js';
import { startDns } from '../dns.js';
import { followDocument, runBash } from '../follow-document.js';
import { checkHealth, compareProductionSnapshots, productionStack, type ProductionStack } from './production-stack.js';
import { ensurePostgresImage, startDockerEngine } from './engine.js';

import { BACKUP_RUNBOOKS } from '../runbooks.js';
import { childrenOf } from '../processes.js';

export { BACKUP_RUNBOOKS };

/** The shipped environment of this stack: production.yaml's shape with this machine's endpoints. */
export const ENVIRONMENT = 'demo-docker';

export interface CycleOptions {
  /** A folder for the S3 server's data, the server's configuration, the state folder and logs. */
  root: string;
  rows?: number;
  log?: (line: string) => void;
  /** Where runbook's output goes. @default 'inherit' */
  output?: 'inherit' | 'pipe';
  /** Kill the recovery's engine (SIGKILL, with its steps' process groups) when this step starts, then `drill --resume`. */
  killAt?: string;
  /** Follow RECOVERY.md's shell by hand (every bash block in one strict bash) instead of `runbook drill`. */
  byHand?: boolean;
  /** Run the monthly restore test after the backups. @default true */
  restoreTest?: boolean;
  /** Runs after the seed, before the backups (tests probe the running stack here). */
  afterSeed?: (stack: ProductionStack) => Promise<void>;
}

export interface CycleReport {
  differences: string[];
  seeded: { rows: number; files: number; repositories: number };
  /** Seconds: building or loading the image, the backups, the recovery from nothing to its last verified step. */
  seconds: { image: number; backup: number; recovery: number };
  /** Each runbook's exit code and its output when piped. */
  runs: { runbook: string; exit: number; output: string }[];
  /** Every manifest.json the backups wrote, by its path in the bucket. */
  manifests: Record<string, unknown>;
  /** Each application's health check after the recovery. */
  health: Record<string, { ok: boolean; body: string }>;
  /** The A records the DNS server answers after the recovery. */
  dns: Record<string, string[]>;
  /** The drill report (report.md) of the recovery. */
  report: string;
  /** The recovery's journal folder. */
  runDir: string;
  /** The steps the document said to skip here and the shell's output, when followed by hand. */
  byHand?: { skipped: string[]; output: string };
  /** The steps whose process groups were killed with the engine, when killAt was given. */
  killed?: { at: string; groups: number[] };
}

/** The manifests under the S3 server's folder (s3rver keeps each object as NAME._S3rver_object). */
const readManifests = (dir: string): Record<string, unknown> => {
  const manifests: Record<string, unknown> = {};
  for (const name of readdirSync(dir, { recursive: true }).map(String)) {
    if (name.endsWith('/manifest.json._S3rver_object')) {
      manifests[name.replace(/\._S3rver_object$/, '')] = JSON.parse(readFileSync(join(dir, name), 'utf8'));
    }
  }
  return manifests;
};

/** Whether the newest run's journal under STATE records that step ID started. */
const started = (state: string, id: string): boolean => {
  try {
    const runs = readdirSync(join(state, 'runs')).sort();
    const journal = readFileSync(join(state, 'runs', runs.at(-1)!, 'journal.jsonl'), 'utf8');
    return journal.split('\n').some((line) => line.includes('"step-start"') && line.includes(`"id":"${id}"`));
  } catch {
    return false;
  }
};

/**
 * The whole cycle on a fresh engine: seed, the shipped backup runbooks, the monthly restore test,
 * the disaster (every container, volume, the configuration checkout and the mirrors deleted), then
 * `runbook drill runbooks/recover-full.yaml` from the bucket alone, and the comparison. Always
 * removes what it created (containers, volumes, a dockerd it started, the S3 and DNS servers).
 */
export const runProductionCycle = async ({
  root,
  rows,
  log = () => {},
  output = 'inherit',
  killAt,
  byHand,
  restoreTest = true,
  afterSeed,
}: CycleOptions): Promise<CycleReport> => {
  mkdirSync(root, { recursive: true });
  // named runs as the user bind and must reach its folder under ROOT.
  chmodSync(root, 0o755);
  const engine = await startDockerEngine(root);
  let stack: ProductionStack | undefined;
  const s3 = await startS3({ root: join(root, 's3') });
  const dns = await startDns({ root, zone: 'example.test' }).catch(async (error: unknown) => {
    await s3.stop();
    await engine.stop();
    throw error;
  });
  try {
    // The environment names the volumes' folders under Docker's default data root.
    if (engine.rootDir !== '/var/lib/docker')
      throw new Error(`the engine keeps its data in ${engine.rootDir}, not /var/lib/docker as production.yaml expects`);
    const imageStarted = Date.now();
    const image = await ensurePostgresImage(log);
    const imageSeconds = (Date.now() - imageStarted) / 1000;
    stack = productionStack({ image, rootDir: engine.rootDir, root: join(root, 'server'), rows });
    await stack.wipe();
    log('starting the stack from its configuration repository and seeding it');
    await stack.start({ ready: true });
    const seeded = await stack.seed();
    await afterSeed?.(stack);
    const before = await stack.snapshot();

    const { AWS_CA_BUNDLE: _dropped, ...inherited } = process.env;
    const state = join(root, 'state');
    const env = {
      ...inherited,
      PATH: systemPath(),
      RUNBOOK_STATE_DIR: state,
      NO_COLOR: '1',
      ...s3.rcloneEnv('backup'),
      ...stack.env(),
      RUNBOOK_STACK_DNS_PORT: String(dns.port),
      DNS_TSIG_KEY: dns.keyText,
    };
    const common = ['--env', ENVIRONMENT, '--yes', '--allow-dirty'];
    const runs: CycleReport['runs'] = [];
    const exec = async (runbook: string, extra: readonly string[] = [], command = 'exec') => {
      log(`runbook ${command} runbooks/${runbook}.yaml --env ${ENVIRONMENT} ${extra.join(' ')}`);
      const result = await startRunbook([command, `runbooks/${runbook}.yaml`, ...common, ...extra], env, output).done;
      runs.push({ runbook, ...result });
      if (result.exit !== 0) throw new Error(`runbooks/${runbook}.yaml exited ${result.exit}\n${result.output}`);
    };

    const backupStarted = Date.now();
    for (const runbook of BACKUP_RUNBOOKS) await exec(runbook);
    const backupSeconds = (Date.now() - backupStarted) / 1000;
    // The monthly restore test, its throw-away server a container of the local image (no registry here).
    if (restoreTest) await exec('restore-test', ['--var', `scratch_image=${image}`]);

    log('disaster: deleting every container and volume, the configuration checkout and the mirrors');
    await stack.wipe();
    const reports = ['--report-dir', join(root, 'reports'), '--output', 'plain'];
    const recoveryStarted = Date.now();
    let killed: CycleReport['killed'];
    let followed: CycleReport['byHand'];
    if (byHand) {
      log('following RECOVERY.md by hand: its bash blocks in one strict bash');
      const work = join(root, 'by-hand');
      mkdirSync(join(work, 'tmp'), { recursive: true });
      const { script, skipped } = followDocument('runbooks/recover-full.yaml', ENVIRONMENT, env);
      writeFileSync(join(work, 'recover.sh'), script);
      const result = await runBash(join(work, 'recover.sh'), { ...env, TMPDIR: join(work, 'tmp') }, work);
      runs.push({ runbook: 'recover-full (by hand)', exit: result.code ?? 1, output: result.output });
      if (result.code !== 0) throw new Error(`RECOVERY.md by hand exited ${result.code}\n${result.output.slice(-5000)}`);
      followed = { skipped, output: result.output };
    } else if (killAt) {
      log(`runbook drill runbooks/recover-full.yaml, killed with SIGKILL when ${killAt} starts`);
      const { child, done } = startRunbook(['drill', 'runbooks/recover-full.yaml', ...common, ...reports], env, 'pipe');
      let gone = false;
      void done.then(() => (gone = true));
      // Killed once the step is journalled as started and its shell runs: mid-step, as a power cut would.
      let groups: number[] = [];
      while (!gone && !(started(state, killAt) && (groups = childrenOf(child.pid!)).length > 0))
        await new Promise((resolve) => setTimeout(resolve, 20));
      if (gone) throw new Error(`the recovery ended before ${killAt} started:\n${(await done).output}`);
      child.kill('SIGKILL');
      for (const group of groups) {
        try {
          process.kill(-group, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      runs.push({ runbook: 'recover-full (killed)', exit: 137, output: (await done).output });
      killed = { at: killAt, groups };
      await exec('recover-full', [...reports, '--resume'], 'drill');
    } else {
      await exec('recover-full', reports, 'drill');
    }
    const recoverySeconds = (Date.now() - recoveryStarted) / 1000;

    const differences = compareProductionSnapshots(before, await stack.snapshot());
    const health = Object.fromEntries(
      await Promise.all(Object.entries(stack.healthUrls()).map(async ([service, url]) => [service, await checkHealth(url)] as const)),
    );
    const answers = Object.fromEntries(
      await Promise.all(['supabase', 'crm', 'git', 'dam'].map(async (name) => [name, await dns.query(name)] as const)),
    );
    const runDir = join(state, 'runs', readdirSync(join(state, 'runs')).sort().at(-1)!);
    const reportDir = join(root, 'reports');
    const reportFile = existsSync(reportDir)
      ? readdirSync(reportDir, { recursive: true })
          .map(String)
          .filter((name) => name.endsWith('.md'))
          .sort()
          .at(-1)
      : undefined;
    const manifests = readManifests(join(s3.dir, s3.bucket));
    return {
      differences,
      seeded,
      runs,
      manifests,
      health,
      dns: answers,
      report: reportFile ? readFileSync(join(reportDir, reportFile), 'utf8') : '',
      runDir,
      killed,
      byHand: followed,
      seconds: { image: imageSeconds, backup: backupSeconds, recovery: recoverySeconds },
    };
  } finally {
    await stack?.wipe().catch(() => {});
    await dns.stop();
    await s3.stop();
    await engine.stop();
  }
};
