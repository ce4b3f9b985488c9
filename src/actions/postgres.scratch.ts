// postgres.scratch: a throw-away PostgreSQL for restore tests (docker run, or initdb on a free
// loopback port); the same action with `remove: true` takes it away again in cleanup.
import type { Action } from './action.js';
import type { PostgresScratchInput } from '../runbook/schema.generated.js';
import { shellAssignments } from '../shell/quote.js';

/** Where Debian's postgresql-15 package puts initdb and pg_ctl. */
const DEFAULT_BIN = '/usr/lib/postgresql/15/bin';

const initdbDir = (input: PostgresScratchInput): string => `${shellAssignments({ NAME: input.name })}
${input.dir === undefined ? 'DIR="${TMPDIR:-/tmp}/runbook-scratch-$NAME"' : shellAssignments({ DIR: input.dir })}`;

const initdbHead = (input: PostgresScratchInput): string => `${initdbDir(input)}
${shellAssignments({ BIN: input.bin ?? DEFAULT_BIN })}
# initdb and pg_ctl refuse to run as root: run them as the postgres user then.
if [ "$(id -u)" = 0 ]; then AS_POSTGRES=(runuser -u postgres --); else AS_POSTGRES=(); fi`;

const initdbStart = (
  input: PostgresScratchInput,
): string => `# postgres.scratch: a throw-away PostgreSQL (initdb) on a free loopback port, trust authentication, fsync off.
${initdbHead(input)}
${shellAssignments({ WANTED_PORT: input.port === undefined ? '' : String(input.port) })}
# Only a folder this action created (it holds .runbook-scratch) is ever deleted.
if [ -e "$DIR" ] && [ -n "$(ls -A "$DIR")" ] && [ ! -e "$DIR/.runbook-scratch" ]; then
  echo "postgres.scratch: $DIR exists and is not a scratch server's folder; choose another dir" >&2
  exit 1
fi
if [ -e "$DIR/data/postmaster.pid" ]; then
  echo "postgres.scratch: stopping the leftover scratch server in $DIR"
  "\${AS_POSTGRES[@]}" "$BIN/pg_ctl" -D "$DIR/data" -m immediate -w stop || true
fi
rm -rf "$DIR"
mkdir -p "$DIR"
touch "$DIR/.runbook-scratch"
if [ "$(id -u)" = 0 ]; then chown postgres: "$DIR"; fi
"\${AS_POSTGRES[@]}" "$BIN/initdb" -A trust -U postgres -D "$DIR/data" -E UTF8 --locale=C.UTF-8 --no-sync > /dev/null

# A port that is free now can be taken before the server binds it: try a few.
STARTED=false
for _ in 1 2 3 4 5; do
  PORT="\${WANTED_PORT:-$((20000 + RANDOM % 30000))}"
  if (exec 3<> "/dev/tcp/127.0.0.1/$PORT") 2> /dev/null; then
    [ -z "$WANTED_PORT" ] && continue
    echo "postgres.scratch: port $PORT is in use" >&2
    exit 1
  fi
  if "\${AS_POSTGRES[@]}" "$BIN/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w -t 60 \\
      -o "-p $PORT -k $DIR -c listen_addresses=127.0.0.1 -c fsync=off" start > /dev/null; then
    STARTED=true
    break
  fi
  [ -n "$WANTED_PORT" ] && break
done
if [ "$STARTED" != true ]; then
  tail -n 5 "$DIR/server.log" >&2 || true
  echo "postgres.scratch: cannot start the scratch server in $DIR" >&2
  exit 1
fi
echo "$PORT" > "$DIR/port"
echo "postgres.scratch: $NAME listens on 127.0.0.1:$PORT (data in $DIR/data)"
if [ -n "\${RUNBOOK_OUTPUT:-}" ]; then
  printf 'host=127.0.0.1\\nport=%s\\nuser=postgres\\ndir=%s\\n' "$PORT" "$DIR" >> "$RUNBOOK_OUTPUT"
fi`;

/** Both engines' verification ends the same way: a query over TCP on the port the run chose. */
const acceptsConnections = `[ "$(psql -X -At -w -h 127.0.0.1 -p "$PORT" -U postgres -d postgres -c 'SELECT 1')" = 1 ]
echo "postgres.scratch: 127.0.0.1:$PORT accepts connections"`;

const initdbStartVerify = (
  input: PostgresScratchInput,
): string => `# postgres.scratch verify: the server accepts connections and answers a query.
${initdbDir(input)}
PORT="$(cat "$DIR/port")"
${acceptsConnections}`;

const initdbRemove = (input: PostgresScratchInput): string => `# postgres.scratch remove: stop the throw-away server and delete its folder.
${initdbHead(input)}
if [ ! -e "$DIR" ]; then
  echo "postgres.scratch: nothing to remove at $DIR"
  exit 0
fi
if [ ! -e "$DIR/.runbook-scratch" ]; then
  echo "postgres.scratch: $DIR is not a scratch server's folder; not removing it" >&2
  exit 1
fi
if [ -e "$DIR/data/postmaster.pid" ]; then
  PID="$(head -n 1 "$DIR/data/postmaster.pid")"
  "\${AS_POSTGRES[@]}" "$BIN/pg_ctl" -D "$DIR/data" -m fast -w -t 60 stop > /dev/null
  if [ -n "\${RUNBOOK_OUTPUT:-}" ]; then echo "pid=$PID" >> "$RUNBOOK_OUTPUT"; fi
fi
rm -rf "$DIR"
echo "postgres.scratch: removed $NAME ($DIR)"`;

const initdbRemoveVerify = (
  input: PostgresScratchInput,
): string => `# postgres.scratch remove verify: the folder is gone and so is the server process.
${initdbDir(input)}
PID="$(sed -n 's/^pid=//p' "\${RUNBOOK_OUTPUT:-/dev/null}" | tail -n 1)"
if [ -e "$DIR" ]; then echo "postgres.scratch: $DIR still exists" >&2; exit 1; fi
# A zombie (exited, not yet reaped by its parent) counts as gone.
if [ -n "$PID" ] && [ -e "/proc/$PID" ] && ! grep -q '^[0-9]* ([^)]*) Z' "/proc/$PID/stat"; then
  echo "postgres.scratch: server process $PID still runs" >&2
  exit 1
fi
echo "postgres.scratch: $NAME is gone"`;

const dockerHead = (input: PostgresScratchInput): string => shellAssignments({ NAME: input.name });

const dockerStart = (
  input: PostgresScratchInput,
): string => `# postgres.scratch: a throw-away PostgreSQL container, published on loopback only, trust authentication.
${shellAssignments({ NAME: input.name, IMAGE: input.image ?? 'postgres:15-alpine' })}
${shellAssignments({ WANTED_PORT: input.port === undefined ? '' : String(input.port) })}
# A container of this name is the leftover of an earlier scratch run.
docker rm -f "$NAME" > /dev/null 2>&1 || true
docker run -d --name "$NAME" -e POSTGRES_HOST_AUTH_METHOD=trust -p "127.0.0.1:$WANTED_PORT:5432" "$IMAGE" > /dev/null
PORT="$(docker port "$NAME" 5432/tcp | sed -n 's/^127\\.0\\.0\\.1://p' | head -n 1)"
# Over TCP: the image's first-start server listens on its socket only, then restarts.
for _ in $(seq 1 60); do
  pg_isready -q -h 127.0.0.1 -p "$PORT" -U postgres && break
  sleep 1
done
pg_isready -h 127.0.0.1 -p "$PORT" -U postgres
echo "postgres.scratch: $NAME listens on 127.0.0.1:$PORT"
if [ -n "\${RUNBOOK_OUTPUT:-}" ]; then
  printf 'host=127.0.0.1\\nport=%s\\nuser=postgres\\ncontainer=%s\\n' "$PORT" "$NAME" >> "$RUNBOOK_OUTPUT"
fi`;

const dockerStartVerify = (
  input: PostgresScratchInput,
): string => `# postgres.scratch verify: the server accepts connections and answers a query.
${dockerHead(input)}
PORT="$(docker port "$NAME" 5432/tcp | sed -n 's/^127\\.0\\.0\\.1://p' | head -n 1)"
${acceptsConnections}`;

const dockerRemove = (input: PostgresScratchInput): string => `# postgres.scratch remove: delete the throw-away container and its data.
${dockerHead(input)}
docker rm -f -v "$NAME" > /dev/null 2>&1 || true
echo "postgres.scratch: removed container $NAME"`;

const dockerRemoveVerify = (input: PostgresScratchInput): string => `# postgres.scratch remove verify: no container of that name exists.
${dockerHead(input)}
if docker container inspect "$NAME" > /dev/null 2>&1; then echo "postgres.scratch: container $NAME still exists" >&2; exit 1; fi
echo "postgres.scratch: container $NAME is gone"`;

export const postgresScratch: Action<PostgresScratchInput> = {
  name: 'postgres.scratch',
  description:
    'Starts a throw-away PostgreSQL for restore tests (docker run published on 127.0.0.1, or initdb on a free loopback port) and publishes host and port as outputs; with remove: true it stops and deletes it.',
  verifies: 'The server accepts connections and answers SELECT 1; after remove, its container, or its folder and process, are gone.',
  requires: (input) => {
    if ((input.engine ?? 'docker') === 'docker') return input.remove ? ['docker'] : ['docker', 'psql', 'pg_isready'];
    return input.remove ? [] : ['psql'];
  },
  // It only ever deletes the throw-away server it created itself.
  destructive: () => false,
  expand: (input) => {
    const docker = (input.engine ?? 'docker') === 'docker';
    if (input.remove)
      return {
        run: docker ? dockerRemove(input) : initdbRemove(input),
        verify: { run: docker ? dockerRemoveVerify(input) : initdbRemoveVerify(input) },
      };
    return {
      run: docker ? dockerStart(input) : initdbStart(input),
      verify: { run: docker ? dockerStartVerify(input) : initdbStartVerify(input), retries: 10, interval: '1s' },
    };
  },
};
