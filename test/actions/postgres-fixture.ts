// Seed data and content checks shared by the postgres action tests: several schemas, awkward names,
// mixed types and sequences, small enough for a test.
/** What the seed needs of a cluster: tools/stack's PgCluster, or {@link startCluster}'s. */
interface Seedable {
  psql(sql: string, database?: string): Promise<string>;
  createDatabase(database: string): Promise<void>;
}

/** Creates `database` with tables in `public` and `auth` (one with a quoted, spaced name). */
export const seedMixed = async (cluster: Seedable, database: string, rows = 2000): Promise<void> => {
  await cluster.createDatabase(database);
  await cluster.psql(
    `CREATE SCHEMA auth;
CREATE TABLE auth.users (id bigserial PRIMARY KEY, email text UNIQUE NOT NULL, created_at timestamptz NOT NULL);
INSERT INTO auth.users (email, created_at)
  SELECT md5(i::text) || '@example.com', timestamptz '2026-01-01' + i * interval '1 minute' FROM generate_series(1, ${rows}) i;
CREATE TABLE public.orders (id bigserial PRIMARY KEY, user_id bigint REFERENCES auth.users(id), amount numeric(12,2), note text);
INSERT INTO public.orders (user_id, amount, note)
  SELECT 1 + (i % ${rows}), (i * 37 % 100000) / 100.0, repeat(md5(i::text), 1 + i % 4) FROM generate_series(1, ${rows * 2}) i;
CREATE TABLE public."Order Items" ("order" bigint, sku text, payload jsonb);
INSERT INTO public."Order Items" SELECT i, 'sku-' || i, jsonb_build_object('i', i, 'tag', md5(i::text)) FROM generate_series(1, ${rows}) i;
CREATE TABLE public.empty_table (id int);`,
    database,
  );
};

/** `{"schema.table": "rows:md5 of the rows in order"}` for every user table: equal content, equal map. */
export const tableContents = async (cluster: Pick<Seedable, 'psql'>, database: string): Promise<Record<string, string>> => {
  const names = (
    await cluster.psql(
      `SELECT format('%I.%I', n.nspname, c.relname) || '|' || n.nspname || '.' || c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_' ORDER BY 1`,
      database,
    )
  )
    .split('\n')
    .filter(Boolean);
  const result: Record<string, string> = {};
  for (const line of names) {
    const [quoted, key] = line.split('|') as [string, string];
    result[key] = (
      await cluster.psql(
        `SELECT count(*) || ':' || coalesce(md5(string_agg(t::text, E'\\n' ORDER BY t::text)), '') FROM ${quoted} t`,
        database,
      )
    ).trim();
  }
  return result;
};

/** Exact row count per table, keyed like the manifest. */
/** The cluster's databases but the templates, comma-separated in name order: what a restore left behind. */
export const databaseNames = async (cluster: Pick<Seedable, 'psql'>): Promise<string> =>
  (await cluster.psql(`SELECT string_agg(datname, ',' ORDER BY datname) FROM pg_database WHERE datname NOT LIKE 'template%'`)).trim();

export const rowCounts = async (cluster: Pick<Seedable, 'psql'>, database: string): Promise<Record<string, number>> =>
  Object.fromEntries(Object.entries(await tableContents(cluster, database)).map(([key, value]) => [key, Number(value.split(':')[0])]));

/**
 * A `docker` for `docker exec [-i] [-e NAME]… CONTAINER TOOL ARGS…` and `docker container inspect -f
 * {{.State.Running}} CONTAINER` only: it logs its arguments (one call a line, to `$DOCKER_LOG`), runs
 * TOOL ARGS… against `cluster`, seeing only the variables passed with -e, as a tool inside a
 * container would, and answers inspect from `$DOCKER_STATE` (`true` when unset; `missing`: no such
 * container; `unreachable`: no Docker daemon; anything else is printed as State.Running). A
 * stand-in for the docker CLI, and said so: these tests pin the words a container target produces
 * and run them for real against a real server; containers on a real Docker engine are the Docker
 * stack's tests (not built yet). Returns the folder to put first on PATH.
 */
export const writeDockerExec = async (dir: string, cluster: { host: string; port: number }): Promise<string> => {
  const { mkdir, writeFile } = await import('node:fs/promises');
  const { join } = await import('node:path');
  await mkdir(dir, { recursive: true });
  await writeFile(
    join(dir, 'docker'),
    `#!/bin/bash
set -euo pipefail
printf '%s\\n' "$*" >> "$DOCKER_LOG"
if [ "$1 \${2:-} \${3:-}" = "container inspect -f" ] && [ "\${4:-}" = '{{.State.Running}}' ]; then
  case "\${DOCKER_STATE:-true}" in
    missing) echo "Error: No such container: $5" >&2; exit 1 ;;
    unreachable) echo "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?" >&2; exit 1 ;;
    *) echo "\${DOCKER_STATE:-true}"; exit 0 ;;
  esac
fi
if [ "$1" != exec ]; then echo "docker (test): only exec and container inspect are served, got: $*" >&2; exit 2; fi
shift
if [ "$1" = -i ]; then shift; fi
passed=(PATH="$PATH" PGHOST=${cluster.host} PGPORT=${cluster.port})
while [ "$1" = -e ]; do passed+=("$2=\${!2}"); shift 2; done
shift # the container's name
exec env -i "\${passed[@]}" "$@"
`,
    { mode: 0o755 },
  );
  return dir;
};

/** A cluster whose bootstrap superuser is not `postgres`, which can be stopped and started again. */
export interface OwnCluster {
  host: '127.0.0.1';
  port: number;
  /** The bootstrap superuser (initdb -U). */
  superuser: string;
  /** psql -X -At -v ON_ERROR_STOP=1 as `user` (default the superuser), stdout. */
  psql(sql: string, database?: string, user?: string): Promise<string>;
  createDatabase(database: string): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
  destroy(): Promise<void>;
}

/**
 * Like tools/stack/postgres.ts, with a chosen bootstrap superuser (`initdb -U`), e.g. the
 * supabase/postgres image's `supabase_admin`, and a server that can be stopped and started again
 * on the same port (readiness tests). Created stopped when `started` is false.
 */
export const startCluster = async (root: string, name: string, superuser: string, started = true): Promise<OwnCluster> => {
  const { chmod, chown, mkdir, rm } = await import('node:fs/promises');
  const { join } = await import('node:path');
  const { runCommand, userIds } = await import('../../tools/stack/run.js');
  const { findFreePort } = await import('../../tools/stack/ports.js');
  const { PG_BIN } = await import('../../tools/stack/postgres.js');
  const dir = join(root, `pg-${name}`);
  const dataDir = join(dir, 'data');
  const asPostgres = (args: string[]) => runCommand('runuser', ['-u', 'postgres', '--', ...args]);
  await chmod(root, 0o755);
  await mkdir(join(dir, 'sock'), { recursive: true });
  const { uid, gid } = await userIds('postgres');
  await chown(dir, uid, gid);
  await chown(join(dir, 'sock'), uid, gid);
  await asPostgres([join(PG_BIN, 'initdb'), '-A', 'trust', '-U', superuser, '-D', dataDir, '--no-sync', '-E', 'UTF8', '--locale=C.UTF-8']);
  const port = await findFreePort();
  const options = `-p ${port} -k ${join(dir, 'sock')} -c listen_addresses=127.0.0.1 -c fsync=off`;
  const pgCtl = (...args: string[]) => asPostgres([join(PG_BIN, 'pg_ctl'), '-D', dataDir, ...args]);
  const cluster: OwnCluster = {
    host: '127.0.0.1',
    port,
    superuser,
    psql: async (sql, database = 'postgres', user = superuser) =>
      (
        await runCommand(
          'psql',
          ['-X', '-At', '-v', 'ON_ERROR_STOP=1', '-h', '127.0.0.1', '-p', String(port), '-U', user, '-d', database, '-f', '-'],
          { input: sql, env: { PGHOST: undefined, PGPORT: undefined, PGDATABASE: undefined, PGUSER: undefined, PGPASSWORD: undefined } },
        )
      ).stdout,
    createDatabase: async (database) => {
      await cluster.psql(`CREATE DATABASE "${database.replaceAll('"', '""')}"`);
    },
    start: async () => {
      await pgCtl('-l', join(dir, 'server.log'), '-o', options, '-w', '-t', '60', 'start');
    },
    stop: async () => {
      await pgCtl('-m', 'immediate', '-w', '-t', '30', 'stop').catch(() => undefined);
    },
    destroy: async () => {
      await cluster.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
  if (started) await cluster.start();
  return cluster;
};
