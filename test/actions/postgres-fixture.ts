// Seed data and content checks shared by the postgres action tests: several schemas, awkward names,
// mixed types and sequences, small enough for a test.
import type { PgCluster } from '../../tools/stack/postgres.js';

/** Creates `database` with tables in `public` and `auth` (one with a quoted, spaced name). */
export const seedMixed = async (cluster: PgCluster, database: string, rows = 2000): Promise<void> => {
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
export const tableContents = async (cluster: PgCluster, database: string): Promise<Record<string, string>> => {
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
export const rowCounts = async (cluster: PgCluster, database: string): Promise<Record<string, number>> =>
  Object.fromEntries(Object.entries(await tableContents(cluster, database)).map(([key, value]) => [key, Number(value.split(':')[0])]));

/**
 * A `docker` for `docker exec -i [-e NAME]… CONTAINER TOOL ARGS…` only: it logs its arguments (one
 * call a line, to `$DOCKER_LOG`) and runs TOOL ARGS… against `cluster`, seeing only the variables
 * passed with -e, as a tool inside a container would. A stand-in for the docker CLI, and said so:
 * these tests pin the words a container target produces and run them for real against a real
 * server; containers on a real Docker engine are the Docker stack's tests (not built yet). Returns
 * the folder to put first on PATH.
 */
export const writeDockerExec = async (dir: string, cluster: PgCluster): Promise<string> => {
  const { mkdir, writeFile } = await import('node:fs/promises');
  const { join } = await import('node:path');
  await mkdir(dir, { recursive: true });
  await writeFile(
    join(dir, 'docker'),
    `#!/bin/bash
set -euo pipefail
printf '%s\\n' "$*" >> "$DOCKER_LOG"
if [ "$1" != exec ] || [ "$2" != -i ]; then echo "docker (test): only exec -i is served, got: $*" >&2; exit 2; fi
shift 2
passed=(PATH="$PATH" PGHOST=${cluster.host} PGPORT=${cluster.port})
while [ "$1" = -e ]; do passed+=("$2=\${!2}"); shift 2; done
shift # the container's name
exec env -i "\${passed[@]}" "$@"
`,
    { mode: 0o755 },
  );
  return dir;
};
