// How a PostgreSQL `target` reaches the shell: as the variables lib/postgres.sh reads, so every
// postgres action's text names the server the same way, whether it runs in a container
// (`docker exec`) or listens on a host and port.
import type { PostgresDumpInput } from '../runbook/schema.generated.js';

/** A `{container, user?}` or `{host, port, user?}` target, with an optional password secret. */
export type PgTarget = PostgresDumpInput['target'];

/** True for a `{container}` target, reached through `docker exec`. */
export const isContainerTarget = (target: PgTarget): target is Extract<PgTarget, { container: string }> => 'container' in target;

/**
 * The target's input variables: `PG_CONTAINER` and `PG_USER`, or `PG_CONTAINER=''` (so none set in
 * the environment applies), `PG_HOST`, `PG_PORT` and `PG_USER`.
 */
export const targetValues = (target: PgTarget): Record<string, string> => ({
  ...(isContainerTarget(target)
    ? { PG_CONTAINER: target.container }
    : { PG_CONTAINER: '', PG_HOST: target.host, PG_PORT: String(target.port) }),
  PG_USER: target.user ?? 'postgres',
});

/**
 * For a password secret, `export PGPASSWORD="${NAME}"`: the value stays in the environment the
 * engine gives the step, never in the text or in argv.
 */
export const passwordLines = (target: PgTarget): string[] =>
  target.password_secret ? [`export PGPASSWORD="\${${target.password_secret}}"`] : [];

/** Commands the target needs on the machine that runs the step. */
export const targetRequires = (target: PgTarget, tools: string[]): string[] => (isContainerTarget(target) ? ['docker'] : tools);
