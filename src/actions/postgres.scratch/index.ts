// postgres.scratch: a throw-away PostgreSQL for restore tests (a container, or initdb on a free
// loopback port); the same action with `remove: true` takes it away again in cleanup.
import { callShell, type Action } from '../action.js';
import type { PostgresScratchInput } from '../../runbook/schema.generated.js';

/** Where Debian's postgresql-15 package puts initdb and pg_ctl. */
const DEFAULT_BIN = '/usr/lib/postgresql/15/bin';

/** The inputs the engine's run reads (the verification reads the first ones only). */
const engineValues = (input: PostgresScratchInput, docker: boolean) => {
  const wantedPort = input.remove ? {} : { WANTED_PORT: input.port === undefined ? '' : String(input.port) };
  if (docker) return { verify: {}, run: input.remove ? {} : { IMAGE: input.image ?? 'postgres:15-alpine', ...wantedPort } };
  return { verify: { DIR: input.dir ?? '' }, run: { DIR: input.dir ?? '', BIN: input.bin ?? DEFAULT_BIN, ...wantedPort } };
};

export const postgresScratch: Action<PostgresScratchInput> = {
  name: 'postgres.scratch',
  description:
    'Starts a throw-away PostgreSQL for restore tests (a container of `image` on the host network listening on a free 127.0.0.1 port, using a local image without pulling it, or initdb on a free loopback port) and publishes host and port as outputs; with remove: true it stops and deletes it.',
  verifies: 'The server accepts connections and answers SELECT 1; after remove, its container, or its folder and process, are gone.',
  requires: (input) => {
    // The docker engine runs the image's own psql and pg_isready through docker exec.
    if ((input.engine ?? 'docker') === 'docker') return ['docker'];
    return input.remove ? [] : ['psql'];
  },
  // It only ever deletes the throw-away server it created itself.
  destructive: () => false,
  expand: (input) => {
    const engine = input.engine ?? 'docker';
    const values = engineValues(input, engine === 'docker');
    const head = { ENGINE: engine, REMOVE: input.remove ?? false, NAME: input.name };
    const run = callShell('rb_postgres_scratch_run', { ...head, ...values.run });
    const verify = callShell('rb_postgres_scratch_verify', { ...head, ...values.verify });
    return { run, verify: input.remove ? { run: verify } : { run: verify, retries: 10, interval: '1s' } };
  },
};
