import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findFreePort } from '../../tools/stack/ports.js';
import { startPostgres, type PgCluster } from '../../tools/stack/postgres.js';
import { isAlive } from '../../tools/stack/run.js';

describe('findFreePort', () => {
  it('returns distinct bindable ports', async () => {
    const ports = await Promise.all([findFreePort(), findFreePort(), findFreePort()]);
    for (const port of ports) expect(port).toBeGreaterThan(1023);
    expect(new Set(ports).size).toBe(3);
  });
});

describe('startPostgres', () => {
  let root: string;
  let cluster: PgCluster;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'stack-pg-'));
    cluster = await startPostgres({ root, name: 'unit' });
  });
  afterAll(async () => {
    await cluster?.destroy();
    await rm(root, { recursive: true, force: true });
  });

  it('answers SQL over TCP on loopback, with fsync off', async () => {
    expect(cluster.host).toBe('127.0.0.1');
    expect(isAlive(cluster.pid)).toBe(true);
    expect(await cluster.psql('SELECT 40 + 2')).toBe('42\n');
    expect(await cluster.psql('SHOW fsync')).toBe('off\n');
    expect(await cluster.psql('SELECT inet_server_addr()')).toBe('127.0.0.1\n');
    expect(await cluster.psql("SELECT pg_backend_pid() <> 0; SELECT current_setting('server_version_num')::int / 10000")).toBe('t\n15\n');
  });

  it('creates databases and keeps UTF-8 text intact', async () => {
    await cluster.createDatabase('app');
    await cluster.psql("CREATE TABLE t (name text); INSERT INTO t VALUES ('Zoë Ångström')", 'app');
    expect(await cluster.psql('SELECT name FROM t', 'app')).toBe('Zoë Ångström\n');
  });

  it('rejects failing SQL with the server message', async () => {
    await expect(cluster.psql('SELECT 1; SELECT * FROM missing_table; SELECT 2')).rejects.toThrow(/missing_table/);
  });

  it('stops by PID and destroy removes the data directory', async () => {
    const other = await startPostgres({ root, name: 'second', port: await findFreePort() });
    expect(other.port).not.toBe(cluster.port);
    await other.stop();
    expect(isAlive(other.pid)).toBe(false);
    expect(existsSync(other.dataDir)).toBe(true);
    await other.destroy();
    expect(existsSync(other.dataDir)).toBe(false);
  });
});
