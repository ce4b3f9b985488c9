// Restoring the database clients connect to by default, on clusters shaped like the supabase/postgres
// image: bootstrap superuser supabase_admin, `postgres` a role without superuser, the application
// database IS `postgres`, and the target (a fresh container of that image) already has the roles and
// a non-empty `postgres` database whose clients reconnect as soon as they are cut off.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExpandContext } from '../../src/actions/action.js';
import { postgresDump } from '../../src/actions/postgres.dump/index.js';
import { postgresRestore } from '../../src/actions/postgres.restore/index.js';
import { expectOk, requireBinaries, runStep } from '../backup/shell.js';
import { startCluster, type OwnCluster } from './postgres-fixture.js';

const context: ExpandContext = { runbook: 'test', stepId: 'restore', secrets: [] };

/** The roles and settings every cluster of the image has, before any application data. */
const supabaseRoles = `CREATE ROLE postgres LOGIN CREATEDB CREATEROLE;
CREATE ROLE anon NOLOGIN NOINHERIT; CREATE ROLE authenticated NOLOGIN NOINHERIT; CREATE ROLE service_role NOLOGIN NOINHERIT BYPASSRLS;
CREATE ROLE authenticator LOGIN NOINHERIT; GRANT anon, authenticated, service_role TO authenticator;
CREATE ROLE supabase_auth_admin LOGIN CREATEROLE NOINHERIT; CREATE ROLE supabase_storage_admin LOGIN CREATEROLE NOINHERIT;`;

/** What the image's migrations put into `postgres`, and an application's data. */
const supabaseData = (rows: number) => `ALTER ROLE authenticator SET statement_timeout TO '8s';
ALTER ROLE supabase_auth_admin SET search_path TO auth; ALTER ROLE supabase_storage_admin SET search_path TO storage;
ALTER ROLE supabase_storage_admin SET statement_timeout TO '60s';
CREATE SCHEMA extensions; CREATE EXTENSION pgcrypto SCHEMA extensions; CREATE EXTENSION "uuid-ossp" SCHEMA extensions;
CREATE SCHEMA auth AUTHORIZATION supabase_auth_admin; CREATE SCHEMA storage AUTHORIZATION supabase_storage_admin;
CREATE TABLE auth.users (id uuid PRIMARY KEY DEFAULT extensions.uuid_generate_v4(), email text); ALTER TABLE auth.users OWNER TO supabase_auth_admin;
INSERT INTO auth.users (email) SELECT i || '@example.com' FROM generate_series(1, ${rows}) i;
CREATE TABLE storage.objects (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name text, owner uuid); ALTER TABLE storage.objects OWNER TO supabase_storage_admin;
ALTER TABLE storage.objects ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_objects ON storage.objects FOR SELECT TO authenticated USING (owner = current_setting('request.jwt.claim.sub', true)::uuid);
INSERT INTO storage.objects (name) SELECT 'object-' || i FROM generate_series(1, ${rows}) i;
CREATE TABLE public.notes (id serial PRIMARY KEY, body text); ALTER TABLE public.notes OWNER TO postgres;
GRANT SELECT ON public.notes TO anon, authenticated; GRANT ALL ON public.notes TO service_role;
INSERT INTO public.notes (body) SELECT md5(i::text) FROM generate_series(1, ${rows}) i;
ALTER DATABASE postgres SET "app.settings.jwt_exp" TO '3600';`;

/**
 * Clients that hold connections to `database` and reconnect 50 ms after being cut off or refused,
 * as Supabase's services do. Returns their stop function.
 */
const reconnectingClients = (cluster: OwnCluster, database: string, count: number) => {
  const loop = `while :; do psql -X -q -h 127.0.0.1 -p ${cluster.port} -U postgres -d ${database} -c 'SELECT pg_sleep(60)' > /dev/null 2>&1; sleep 0.05; done`;
  const children: ChildProcess[] = Array.from({ length: count }, () => spawn('bash', ['-c', loop], { detached: true, stdio: 'ignore' }));
  return () => {
    for (const child of children) if (child.pid) process.kill(-child.pid, 'SIGKILL');
  };
};

describe('postgres.restore into the database clients connect to by default (supabase/postgres shape)', () => {
  let root: string;
  let source: OwnCluster;
  let target: OwnCluster;
  const from = () => join(root, 'backups');
  const env = () => ({ TMPDIR: join(root, 'staging') });
  const count = async (cluster: OwnCluster, sql: string) => (await cluster.psql(sql)).trim();

  beforeAll(async () => {
    requireBinaries('psql', 'pg_dump', 'zstd', 'rclone', 'jq', 'sha256sum');
    root = await mkdtemp(join(tmpdir(), 'pg-supabase-'));
    await mkdir(join(root, 'staging'));
    [source, target] = await Promise.all([startCluster(root, 'source', 'supabase_admin'), startCluster(root, 'target', 'supabase_admin')]);
    await source.psql(supabaseRoles + supabaseData(300));
    // The fresh target has the image's roles and its own, different, `postgres` contents.
    await target.psql(supabaseRoles + supabaseData(5));
    const dump = await runStep(
      postgresDump.expand(
        { target: { host: source.host, port: source.port, user: 'supabase_admin' }, database: 'postgres', to: from() },
        context,
      ),
      root,
      env(),
    );
    expectOk(dump.run, 'dump as supabase_admin');
    expectOk(dump.verify, 'dump verify');
  });
  afterAll(async () => {
    await Promise.all([source?.destroy(), target?.destroy()]);
    await rm(root, { recursive: true, force: true });
  });

  it('refuses the non-empty postgres database without replace, saying how to replace it', async () => {
    const { run } = await runStep(
      postgresRestore.expand(
        {
          allow_unsigned: true,
          target: { host: target.host, port: target.port, user: 'supabase_admin' },
          database: 'postgres',
          from: from(),
        },
        context,
      ),
      root,
      env(),
    );
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      `database postgres at 127.0.0.1:${target.port} is not empty (3 tables); set replace: true to overwrite it`,
    );
    expect(await count(target, 'SELECT count(*) FROM public.notes')).toBe('5');
  });

  it('restores into postgres as supabase_admin with replace while its clients keep reconnecting', async () => {
    const stopClients = reconnectingClients(target, 'postgres', 3);
    try {
      await new Promise((resolve) => setTimeout(resolve, 500));
      const { run, verify } = await runStep(
        postgresRestore.expand(
          {
            allow_unsigned: true,
            target: { host: target.host, port: target.port, user: 'supabase_admin' },
            database: 'postgres',
            from: from(),
            replace: true,
          },
          context,
        ),
        root,
        env(),
      );
      expectOk(run, 'restore into postgres');
      expectOk(verify, 'verify');
      // The clients are back, on the restored database.
      let connected = '0';
      for (let attempt = 0; attempt < 50 && connected === '0'; attempt++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        connected = await count(target, `SELECT count(*) FROM pg_stat_activity WHERE datname = 'postgres' AND query LIKE '%pg_sleep%'`);
      }
      expect(Number(connected)).toBeGreaterThan(0);
    } finally {
      stopClients();
    }
    expect(await count(target, 'SELECT count(*) FROM public.notes')).toBe('300');
    expect(await count(target, 'SELECT count(*) FROM auth.users')).toBe('300');
    expect(await count(target, `SELECT string_agg(datname, ',' ORDER BY datname) FROM pg_database`)).toBe('postgres,template0,template1');
    expect(await count(target, `SELECT datallowconn FROM pg_database WHERE datname = 'postgres'`)).toBe('t');
    expect(await count(target, `SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = 'postgres'`)).toBe('supabase_admin');
    expect(
      await count(
        target,
        `SELECT array_to_string(setconfig, ',') FROM pg_db_role_setting WHERE setrole = 0 AND setdatabase = (SELECT oid FROM pg_database WHERE datname = 'postgres')`,
      ),
    ).toBe('app.settings.jwt_exp=3600');
    expect(await count(target, `SELECT string_agg(extname || ':' || extowner::regrole, ',' ORDER BY extname) FROM pg_extension`)).toBe(
      'pgcrypto:supabase_admin,plpgsql:supabase_admin,uuid-ossp:supabase_admin',
    );
    expect(await count(target, `SELECT tableowner FROM pg_tables WHERE schemaname = 'storage'`)).toBe('supabase_storage_admin');
    expect(await count(target, `SELECT count(*) FROM pg_policies WHERE policyname = 'own_objects'`)).toBe('1');
  });

  it('restores another database with replace while its clients keep reconnecting', async () => {
    await target.psql(`CREATE DATABASE app`);
    await target.psql(`CREATE TABLE t (id int); INSERT INTO t VALUES (1)`, 'app');
    const stopClients = reconnectingClients(target, 'app', 3);
    try {
      await new Promise((resolve) => setTimeout(resolve, 500));
      const { run, verify } = await runStep(
        postgresRestore.expand(
          {
            allow_unsigned: true,
            target: { host: target.host, port: target.port, user: 'supabase_admin' },
            database: 'app',
            from: from(),
            replace: true,
          },
          context,
        ),
        root,
        env(),
      );
      expectOk(run, 'restore into app');
      expectOk(verify, 'verify');
    } finally {
      stopClients();
    }
    expect((await target.psql('SELECT count(*) FROM public.notes', 'app')).trim()).toBe('300');
    await target.psql(`DROP DATABASE app WITH (FORCE)`);
  });
});
