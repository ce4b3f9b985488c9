import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseEnvFile } from '../../src/engine/env-file.js';
import { isAlive, runCommand, waitForExit } from '../../tools/stack/run.js';
import { formatEnvFile, SERVICES, startStack, type Stack } from '../../tools/stack/stack.js';

describe('formatEnvFile', () => {
  it('round-trips through the engine’s env-file parser, multi-line and quoted values included', () => {
    const values = {
      PLAIN: 'http://127.0.0.1:9000',
      KEY: 'key "k" {\n\tsecret "a+b/c==";\n};\n',
      BACKSLASH: 'a\\nb',
      SPACE: ' x ',
      EMPTY: '',
    };
    const text = formatEnvFile(values);
    expect(text.split('\n').filter(Boolean)).toHaveLength(5);
    expect(parseEnvFile(text)).toEqual(values);
  });
});

describe('startStack', () => {
  let stack: Stack;
  let pids: number[];
  const work = { dir: '' };

  beforeAll(async () => {
    work.dir = await mkdtemp(join(tmpdir(), 'stack-test-'));
    stack = await startStack({ scale: 0.02, storage: { files: 6, bytes: 30_000 }, dam: { files: 4, bytes: 20_000 } });
    pids = [...SERVICES.map((s) => stack.clusters[s].pid), stack.s3.pid, stack.dns!.pid];
  });
  afterAll(async () => {
    await stack?.stop();
    await rm(work.dir, { recursive: true, force: true });
  });

  it('starts every service and seeds it', async () => {
    for (const pid of pids) expect(isAlive(pid)).toBe(true);
    expect(new Set(SERVICES.map((s) => stack.clusters[s].port)).size).toBe(4);
    expect(await stack.clusters.twenty.psql('SELECT count(*) > 0 FROM public.companies', 'twenty')).toBe('t\n');
    expect(await stack.dns!.query('crm')).toEqual(['192.0.2.10']);
    expect(Object.keys(stack.seeded.repositories)).toHaveLength(3);
    expect(Object.keys(stack.seeded.storage)).toHaveLength(6);
    expect(existsSync(join(stack.paths.dam, 'derivatives'))).toBe(true);
    const snapshot = await stack.snapshot();
    expect(snapshot.repositories).toEqual(stack.seeded.repositories);
    expect(snapshot.storage).toEqual(stack.seeded.storage);
    expect(snapshot.damOriginals).toEqual(stack.seeded.dam.originals);
    expect(snapshot.databases.supabase.tables['auth.users']?.rows).toBeGreaterThan(0);
  });

  it('writes an env file that rclone and dig can use as is', async () => {
    const env = stack.env();
    expect(env).toMatchObject({
      RUNBOOK_STACK_ROOT: stack.root,
      RUNBOOK_STACK_SUPABASE_PORT: String(stack.clusters.supabase.port),
      RUNBOOK_STACK_DAM_PORT: String(stack.clusters.dam.port),
      RUNBOOK_STACK_DNS_PORT: String(stack.dns!.port),
      RCLONE_CONFIG_BACKUP_ENDPOINT: stack.s3.endpoint,
      DNS_TSIG_KEY: stack.dns!.keyText,
    });
    const file = join(work.dir, 'stack.env');
    await stack.writeEnvFile(file);
    const parsed = parseEnvFile(await readFile(file, 'utf8'));
    expect(parsed).toEqual(env);
    const listing = await runCommand('/usr/bin/rclone', ['lsjson', 'backup:backups'], { env: { ...parsed, AWS_CA_BUNDLE: undefined } });
    expect(JSON.parse(listing.stdout)).toEqual([]);
  });

  it('destroys the services, keeps S3 and DNS, and recreates empty clusters on the same ports', async () => {
    const ports = SERVICES.map((s) => stack.clusters[s].port);
    const oldPids = SERVICES.map((s) => stack.clusters[s].pid);
    await stack.destroyServices();
    for (const pid of oldPids) expect(isAlive(pid)).toBe(false);
    expect(existsSync(stack.paths.repositories)).toBe(false);
    expect(existsSync(stack.paths.storage)).toBe(false);
    expect(existsSync(stack.paths.dam)).toBe(false);
    expect(isAlive(stack.s3.pid)).toBe(true);
    expect(await stack.dns!.query('git')).toEqual(['192.0.2.11']);

    await stack.recreateEmptyClusters();
    expect(SERVICES.map((s) => stack.clusters[s].port)).toEqual(ports);
    expect(await stack.clusters.gitea.psql("SELECT count(*) FROM pg_database WHERE datname = 'gitea'")).toBe('0\n');
    pids = [...SERVICES.map((s) => stack.clusters[s].pid), stack.s3.pid, stack.dns!.pid];
  });

  it('stop() ends every PID and removes the folder', async () => {
    await stack.stop();
    for (const pid of pids) expect(isAlive(pid)).toBe(false);
    expect(existsSync(stack.root)).toBe(false);
  });
});

describe('startStack on SIGTERM', () => {
  it('kills its servers by PID and removes its folder', async () => {
    // A listener of our own keeps the handler from re-raising the signal and ending the test worker.
    const keepAlive = () => {};
    process.on('SIGTERM', keepAlive);
    try {
      const stack = await startStack({
        scale: 0.01,
        withDns: false,
        storage: { files: 2, bytes: 100 },
        dam: { files: 2, bytes: 100 },
        repositories: { count: 1 },
      });
      expect(stack.dns).toBeUndefined();
      expect(stack.env().RUNBOOK_STACK_DNS_PORT).toBeUndefined();
      const pids = [...SERVICES.map((s) => stack.clusters[s].pid), stack.s3.pid];
      process.emit('SIGTERM', 'SIGTERM');
      for (const pid of pids) expect(await waitForExit(pid, 5_000)).toBe(true);
      expect(existsSync(stack.root)).toBe(false);
      expect(process.listeners('SIGTERM')).toEqual([keepAlive]);
    } finally {
      process.off('SIGTERM', keepAlive);
    }
  });
});
