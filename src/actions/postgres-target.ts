// How a PostgreSQL `target` becomes shell: the same psql/pg_dump words whether the server runs in a
// container (`docker exec`) or listens on a host and port, so every postgres action reads alike.
import type { PostgresDumpInput } from '../runbook/schema.generated.js';
import { shellAssignments } from '../shell/quote.js';

/** A `{container, user?}` or `{host, port, user?}` target, with an optional password secret. */
export type PgTarget = PostgresDumpInput['target'];

/** True for a `{container}` target, reached through `docker exec`. */
export const isContainerTarget = (target: PgTarget): target is Extract<PgTarget, { container: string }> => 'container' in target;

/**
 * The target's quoted shell assignments (`PG_CONTAINER` or `PG_HOST`/`PG_PORT`, then `PG_USER`) and,
 * for a password secret, `export PGPASSWORD="${NAME}"`: the value stays in the environment the
 * engine gives the step, never in the text or in argv.
 */
export const targetAssignments = (target: PgTarget): string => {
  const where = isContainerTarget(target) ? { PG_CONTAINER: target.container } : { PG_HOST: target.host, PG_PORT: String(target.port) };
  const lines = [shellAssignments({ ...where, PG_USER: target.user ?? 'postgres' })];
  if (target.password_secret) lines.push(`export PGPASSWORD="\${${target.password_secret}}"`);
  return lines.join('\n');
};

/**
 * The shell words that run a PostgreSQL client tool (`psql`, `pg_dump`, `pg_dumpall`, `pg_restore`) against the
 * target: `docker exec -i "$PG_CONTAINER" psql -U "$PG_USER"` or
 * `psql -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER"`. `-e PGPASSWORD` hands the container the
 * variable's value from the environment, not from argv.
 */
export const pgCommand = (target: PgTarget, tool: 'psql' | 'pg_dump' | 'pg_dumpall' | 'pg_restore'): string => {
  if (isContainerTarget(target)) {
    const env = target.password_secret ? '-e PGPASSWORD ' : '';
    return `docker exec -i ${env}"$PG_CONTAINER" ${tool} -U "$PG_USER"`;
  }
  return `${tool} -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER"`;
};

/** `psql` with the flags every action uses: no ~/.psqlrc, stop at the first error, never prompt. */
export const psqlCommand = (target: PgTarget): string => `${pgCommand(target, 'psql')} -X -v ON_ERROR_STOP=1 -w`;

/** Where the target is, for messages and the manifest's `source`. */
export const describeTarget = (target: PgTarget): string => (isContainerTarget(target) ? 'container $PG_CONTAINER' : '$PG_HOST:$PG_PORT');

/** Commands the target needs on the machine that runs the step. */
export const targetRequires = (target: PgTarget, tools: string[]): string[] => (isContainerTarget(target) ? ['docker'] : tools);

/**
 * One JSON line `{"schema.table": rows, …}` with the exact `count(*)` of every user table (all
 * schemas but pg_catalog, information_schema, pg_toast and temporary ones). query_to_xml lets one
 * statement count tables it only learns at run time, so it runs inside the caller's transaction.
 */
export const countRowsSql = `SELECT coalesce(json_object_agg(t.name, t.rows ORDER BY t.name), '{}')
FROM (
  SELECT n.nspname || '.' || c.relname AS name,
         (xpath('/row/n/text()', query_to_xml(format('SELECT count(*) AS n FROM %I.%I', n.nspname, c.relname), false, true, '')))[1]::text::bigint AS rows
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE c.relkind IN ('r', 'p')
    AND n.nspname NOT IN ('pg_catalog', 'information_schema')
    AND n.nspname !~ '^pg_(toast|temp_)'
) t;`;

/** How many user tables a database has (the same selection as {@link countRowsSql}). */
export const countTablesSql = `SELECT count(*)
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname !~ '^pg_(toast|temp_)';`;
