// `npm run demo`: the whole mission on one machine — seeded local services, the shipped backup
// runbooks, a simulated disaster, the shipped recovery, and a check that everything came back.
import { spawn } from 'node:child_process';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { listDrillReports } from '../../src/report/drill-files.js';
import { repository } from './repository.js';
import { systemPath } from './run.js';
import { startStack, type Stack, type StackSnapshot } from './stack.js';
import { BACKUP_RUNBOOKS } from './runbooks.js';

const cli = join(repository, 'bin', 'runbook.js');

const backups = BACKUP_RUNBOOKS;

/** The environment a run of the CLI gets: rclone 1.60 fails on AWS_CA_BUNDLE, npm's bin folder hides the system rclone. */
export const demoEnvironment = (extra: Record<string, string> = {}): NodeJS.ProcessEnv => {
  const { AWS_CA_BUNDLE: _dropped, ...rest } = process.env;
  return { ...rest, PATH: systemPath(), ...extra };
};

/**
 * Starts `runbook ARGS…` in the repository, its output on the terminal or collected (`pipe`);
 * `done` resolves with its exit code and the collected output.
 */
export const startRunbook = (args: readonly string[], env: NodeJS.ProcessEnv, output: 'inherit' | 'pipe' = 'inherit') => {
  const child = spawn(process.execPath, [cli, ...args], { cwd: repository, env, stdio: ['ignore', output, output] });
  const chunks: Buffer[] = [];
  child.stdout?.on('data', (chunk: Buffer) => chunks.push(chunk));
  child.stderr?.on('data', (chunk: Buffer) => chunks.push(chunk));
  const done = new Promise<{ exit: number; output: string }>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ exit: code ?? (signal ? 128 : 1), output: Buffer.concat(chunks).toString('utf8') }));
  });
  return { child, done };
};

/** Runs `runbook ARGS…` with the terminal attached; resolves with its exit code. */
export const runRunbook = async (args: readonly string[], env: NodeJS.ProcessEnv): Promise<number> =>
  (await startRunbook(args, env).done).exit;

/** A headline in the demos' output. */
export const say = (text: string) => process.stdout.write(`\n\x1b[1m▶ ${text}\x1b[0m\n`);

/** What differs between two snapshots of the stack, one line each. */
export const compareSnapshots = (before: StackSnapshot, after: StackSnapshot): string[] => {
  const differences: string[] = [];
  const compare = (what: string, a: unknown, b: unknown) => {
    if (JSON.stringify(a) !== JSON.stringify(b)) differences.push(what);
  };
  for (const [service, database] of Object.entries(before.databases)) {
    const restored = after.databases[service as keyof StackSnapshot['databases']];
    for (const [table, value] of Object.entries(database.tables)) compare(`${service}: ${table}`, value, restored?.tables[table]);
    compare(`${service}: sequences`, database.sequences, restored?.sequences);
  }
  compare('git repositories', before.repositories, after.repositories);
  compare('storage files', before.storage, after.storage);
  compare("Gitea's data", before.giteaData, after.giteaData);
  compare('DAM originals', before.damOriginals, after.damOriginals);
  compare('the configuration and its secrets', before.config, after.config);
  return differences;
};

const main = async () => {
  const scale = Number(process.env.RUNBOOK_DEMO_SCALE ?? 2);
  say(`Starting the local stack (4 PostgreSQL clusters, S3, DNS, git, files; scale ${scale})`);
  const stack: Stack = await startStack({ scale });
  let code = 1;
  try {
    const envFile = join(stack.root, 'stack.env');
    await stack.writeEnvFile(envFile);
    const env = demoEnvironment({ RUNBOOK_STATE_DIR: join(stack.root, 'state') });
    const common = ['--env', 'demo', '--env-file', envFile, '--yes', '--allow-dirty'];
    const before = await stack.snapshot();

    for (const name of backups) {
      say(`runbook exec runbooks/${name}.yaml --env demo`);
      const exit = await runRunbook(['exec', `runbooks/${name}.yaml`, ...common], env);
      if (exit !== 0) throw new Error(`runbooks/${name}.yaml failed (exit ${exit})`);
    }

    say('Disaster: stopping and deleting every database, repository and file');
    await stack.destroyServices();
    await stack.recreateEmptyClusters();

    // Kept after the demo (the stack's folder is removed): .runbook/ is gitignored, and a second
    // demo's report is compared with the first one's.
    const reportDir = join('.runbook', 'demo-drills'); // relative to the repository, where the CLI runs
    say('runbook drill runbooks/recover-full.yaml --env demo --yes --report-dir .runbook/demo-drills');
    const exit = await runRunbook(['drill', 'runbooks/recover-full.yaml', ...common, '--report-dir', reportDir], env);
    if (exit !== 0) throw new Error(`runbooks/recover-full.yaml failed (exit ${exit})`);

    say('Comparing every table, file and git ref with what was there before the disaster');
    const differences = compareSnapshots(before, await stack.snapshot());
    if (differences.length) throw new Error(`not restored exactly:\n  ${differences.join('\n  ')}`);
    const tables = Object.values(before.databases).reduce((n, d) => n + Object.keys(d.tables).length, 0);
    process.stdout.write(
      `all equal: ${tables} tables (rows and ordered content), ${Object.keys(before.repositories).length} git repositories, ` +
        `${Object.keys(before.storage).length + Object.keys(before.damOriginals).length} files\n`,
    );
    await runRunbook(['status', '--state-dir', join(stack.root, 'state'), '--report-dir', reportDir], env);
    const report = listDrillReports(join(repository, reportDir), 'recover-full').at(-1);
    if (report) {
      const base = relative(process.cwd(), report.path).replace(/\.json$/, '');
      say('The drill report stays after the demo');
      process.stdout.write(`${base}.md (for people), ${base}.json (for the next drill's comparison), ${base}.xml (JUnit, for CI)\n`);
    }
    code = 0;
  } catch (error) {
    process.stderr.write(`demo: ${(error as Error).message}\n`);
  } finally {
    say('Stopping the stack and removing its folder');
    await stack.stop();
  }
  process.exitCode = code;
};

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
