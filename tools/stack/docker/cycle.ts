// The production cycle on a real Docker engine: seed the production-shaped stack, run the shipped
// backup runbooks with the shipped production environment (only the rclone remote `backup` is
// pointed at a local S3 server, and failure pings go nowhere), delete every container and volume,
// start fresh containers as on a new server, run the shipped restore runbooks, and compare.
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repository } from '../repository.js';
import { systemPath } from '../run.js';
import { startS3 } from '../s3.js';
import { compareProductionSnapshots, productionStack, type ProductionStack } from './production-stack.js';
import { ensurePostgresImage, startDockerEngine } from './engine.js';

export const BACKUP_RUNBOOKS = [
  'backup-supabase',
  'backup-twenty',
  'backup-gitea-db',
  'backup-dam-db',
  'backup-gitea-repos',
  'backup-files',
] as const;
/** In the documented recovery order: Supabase, the CRM, the others, files. */
export const RESTORE_RUNBOOKS = [
  'restore-supabase',
  'restore-twenty',
  'restore-gitea-db',
  'restore-dam-db',
  'restore-gitea-repos',
  'restore-files',
] as const;

/** The only values the cycle changes from runbooks/environments/production.yaml. */
export const PRODUCTION_OVERRIDES = ['--var', 'healthchecks_url='] as const;
/** What a fresh server needs that an existing one refuses by default: Supabase's database is never empty. */
export const FRESH_SERVER_VARS = ['--var', 'supabase_replace=true'] as const;

export interface CycleOptions {
  /** A folder for the S3 server's data, the state folder and logs. */
  root: string;
  rows?: number;
  log?: (line: string) => void;
  /** Where runbook's output goes. @default 'inherit' */
  output?: 'inherit' | 'pipe';
}

export interface CycleReport {
  differences: string[];
  seeded: { rows: number; files: number; repositories: number };
  /** Seconds: the backups, and the restores from fresh containers to the last verified step. */
  seconds: { image: number; backup: number; restore: number };
  /** Each runbook's exit code and its output when piped. */
  runs: { runbook: string; exit: number; output: string }[];
  /** Every manifest.json the backups wrote, by its path in the bucket. */
  manifests: Record<string, unknown>;
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

const runRunbook = (args: string[], env: NodeJS.ProcessEnv, output: 'inherit' | 'pipe') =>
  new Promise<{ exit: number; output: string }>((resolve, reject) => {
    const child = spawn(process.execPath, [join(repository, 'bin', 'runbook.js'), ...args], {
      cwd: repository,
      env,
      stdio: ['ignore', output, output],
    });
    const chunks: Buffer[] = [];
    child.stdout?.on('data', (chunk: Buffer) => chunks.push(chunk));
    child.stderr?.on('data', (chunk: Buffer) => chunks.push(chunk));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ exit: code ?? (signal ? 128 : 1), output: Buffer.concat(chunks).toString('utf8') }));
  });

/** Runs the whole cycle; always removes what it created (containers, volumes, a dockerd it started). */
export const runProductionCycle = async ({ root, rows, log = () => {}, output = 'inherit' }: CycleOptions): Promise<CycleReport> => {
  mkdirSync(root, { recursive: true });
  const engine = await startDockerEngine(root);
  let stack: ProductionStack | undefined;
  const s3 = await startS3({ root: join(root, 's3') });
  try {
    // production.yaml names the volumes' folders under Docker's default data root.
    if (engine.rootDir !== '/var/lib/docker')
      throw new Error(`the engine keeps its data in ${engine.rootDir}, not /var/lib/docker as production.yaml expects`);
    const started = Date.now();
    const image = await ensurePostgresImage(log);
    const imageSeconds = (Date.now() - started) / 1000;
    stack = productionStack({ image, rootDir: engine.rootDir, rows });
    await stack.wipe();
    log('starting the production-shaped containers and seeding them');
    await stack.start({ ready: true });
    const seeded = await stack.seed();
    const before = await stack.snapshot();

    const { AWS_CA_BUNDLE: _dropped, ...inherited } = process.env;
    const env = { ...inherited, PATH: systemPath(), RUNBOOK_STATE_DIR: join(root, 'state'), ...s3.rcloneEnv('backup') };
    const runs: CycleReport['runs'] = [];
    const exec = async (runbook: string, extra: readonly string[] = []) => {
      log(`runbook exec runbooks/${runbook}.yaml --env production`);
      const args = ['exec', `runbooks/${runbook}.yaml`, '--env', 'production', '--yes', '--allow-dirty', ...PRODUCTION_OVERRIDES, ...extra];
      const result = await runRunbook(args, env, output);
      runs.push({ runbook, ...result });
      if (result.exit !== 0) throw new Error(`runbooks/${runbook}.yaml exited ${result.exit}\n${result.output}`);
    };

    const backupStarted = Date.now();
    for (const runbook of BACKUP_RUNBOOKS) await exec(runbook);
    const backupSeconds = (Date.now() - backupStarted) / 1000;
    // The monthly restore test, its throw-away server a container of the local image (no registry here).
    await exec('restore-test', ['--var', `scratch_image=${image}`]);

    log('disaster: deleting every container and volume; fresh containers as on a new server');
    await stack.wipe();
    const restoreStarted = Date.now();
    // Not waited for: the restores must wait for their databases themselves.
    await stack.start({ ready: false });
    for (const runbook of RESTORE_RUNBOOKS) await exec(runbook, runbook === 'restore-supabase' ? FRESH_SERVER_VARS : []);
    const restoreSeconds = (Date.now() - restoreStarted) / 1000;

    const differences = compareProductionSnapshots(before, await stack.snapshot());
    const manifests = readManifests(join(s3.dir, s3.bucket));
    return { differences, seeded, runs, manifests, seconds: { image: imageSeconds, backup: backupSeconds, restore: restoreSeconds } };
  } finally {
    await stack?.wipe().catch(() => {});
    await s3.stop();
    await engine.stop();
  }
};
