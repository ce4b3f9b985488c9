// The shipped backup runbooks, run by `runbook exec` with the demo environment against the local
// stack, produce complete backups whose manifests hold the exact row counts; retention keeps them;
// the monthly restore test restores each into a throw-away server and compares.
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoEnvironment } from '../../tools/stack/demo.js';
import { rowCounts, SERVICE_DATABASES } from '../../tools/stack/seed.js';
import { SERVICES, startStack, type Stack } from '../../tools/stack/stack.js';
import { runCli } from '../helpers/cli.js';
import { BACKUP_RUNBOOKS } from '../../tools/stack/runbooks.js';

/** The manifests of the complete backups under `prefix` in the S3 endpoint's folder on disk. */
const manifestsIn = (stack: Stack, prefix: string): Record<string, unknown>[] => {
  const base = join(stack.s3.dir, stack.s3.bucket, prefix);
  if (!existsSync(base)) return [];
  return readdirSync(base)
    .filter((id) => existsSync(join(base, id, 'manifest.json._S3rver_object')))
    .map((id) => JSON.parse(readFileSync(join(base, id, 'manifest.json._S3rver_object'), 'utf8')) as Record<string, unknown>);
};

/** Whether any object in the bucket holds TEXT. */
const bucketContains = (stack: Stack, text: string): boolean =>
  readdirSync(join(stack.s3.dir, stack.s3.bucket), { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .some((entry) => readFileSync(join(entry.parentPath, entry.name)).includes(text));

const folders: Record<(typeof SERVICES)[number], string> = { supabase: 'supabase', twenty: 'twenty', gitea: 'gitea-db', dam: 'dam-db' };

describe('the shipped backup runbooks on the local stack', () => {
  let stack: Stack;
  let env: NodeJS.ProcessEnv;
  let common: string[];

  beforeAll(async () => {
    stack = await startStack({ scale: 1, withDns: false });
    const envFile = join(stack.root, 'stack.env');
    await stack.writeEnvFile(envFile);
    env = demoEnvironment({ RUNBOOK_STATE_DIR: join(stack.root, 'state') });
    common = ['--env', 'demo', '--env-file', envFile, '--yes', '--allow-dirty', '--output', 'plain'];
  }, 180_000);

  afterAll(async () => {
    await stack?.stop();
  });

  it('every backup runbook succeeds and each database backup holds count(*) of every table', async () => {
    for (const name of BACKUP_RUNBOOKS) {
      const run = await runCli(['exec', `runbooks/${name}.yaml`, ...common], { env });
      expect(run.code, `${name}: ${run.stdout}\n${run.stderr}`).toBe(0);
    }
    for (const service of SERVICES) {
      const manifests = manifestsIn(stack, `postgres/${folders[service]}`);
      expect(manifests, service).toHaveLength(1);
      const manifest = manifests[0]!;
      expect(manifest).toMatchObject({ format: 'runbook-backup/1', kind: 'postgres', runbook: { name: `backup-${folders[service]}` } });
      expect(manifest.tables).toEqual(await rowCounts(stack.clusters[service], SERVICE_DATABASES[service]));
      expect(Object.keys(manifest.tables as object).length).toBeGreaterThan(2);
    }
    expect(manifestsIn(stack, 'git/gitea')).toHaveLength(1);
    // What a new server needs first: the configuration and runbook repositories, and the secrets,
    // encrypted (the bucket never holds the plaintext).
    const config = manifestsIn(stack, 'git/config')[0] as { repositories: Record<string, unknown> };
    expect(Object.keys(config.repositories).sort()).toEqual(['runbook.git', 'stack-config.git']);
    const secrets = manifestsIn(stack, 'secrets/stack')[0] as { kind: string; entries: { path: string }[] };
    expect(secrets).toMatchObject({ kind: 'secrets', entries: [{ path: '.env' }] });
    const plaintext = readFileSync(join(stack.env().RUNBOOK_STACK_CONFIG_DIR!, '.env'), 'utf8').trim().split('=')[1]!;
    expect(bucketContains(stack, plaintext)).toBe(false);
    expect(manifestsIn(stack, 'files/storage')).toHaveLength(1);
    const dam = manifestsIn(stack, 'files/dam')[0] as { files: { name: string }[] };
    expect(dam.files.length).toBeGreaterThan(0);
    expect(dam.files.filter((f) => f.name.includes('derivatives/'))).toEqual([]);
  }, 300_000);

  it('retention keeps the only (newest) backup of every destination, and a monitor finds them fresh', async () => {
    const run = await runCli(['exec', 'runbooks/retention.yaml', ...common], { env });
    expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0);
    for (const service of SERVICES) expect(manifestsIn(stack, `postgres/${folders[service]}`)).toHaveLength(1);
    const check = await runCli(['backups', 'backup:backups/postgres/twenty', '--rpo', '26h'], { env: { ...env, ...stack.env() } });
    expect(check.code, check.stderr).toBe(0);
  }, 120_000);

  it('the monthly restore test restores every database into a scratch server and cleans it up', async () => {
    const run = await runCli(['exec', 'runbooks/restore-test.yaml', ...common], { env });
    expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0);
    const output = run.stdout + run.stderr;
    for (const service of Object.values(folders)) expect(output).toMatch(new RegExp(`\\[${service}\\] done: exit 0, verified`));
    expect(output).toMatch(/\[remove-scratch\] done: exit 0, verified/);
    expect(existsSync(join(stack.paths.scratch, 'restore-test'))).toBe(false);
  }, 300_000);
});
