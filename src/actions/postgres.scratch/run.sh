# shellcheck shell=bash
# postgres.scratch run: a throw-away PostgreSQL for restore tests, trust authentication on loopback
# only: a container (ENGINE=docker) or an initdb cluster on a free port (ENGINE=initdb); with
# REMOVE=true it is stopped and deleted again.
# Inputs: ENGINE NAME REMOVE (true or false); for docker IMAGE WANTED_PORT (empty: any free port);
# for initdb DIR (empty: a folder named for NAME under $TMPDIR) BIN (initdb's folder) WANTED_PORT.
rb_postgres_scratch_run() {
  # shellcheck disable=SC2034 # read by rb_say and rb_fail (lib/step.sh)
  RB_ACTION=postgres.scratch
  case "$ENGINE.$REMOVE" in
    docker.false) rb_postgres_scratch_docker_start ;;
    docker.true) rb_postgres_scratch_docker_remove ;;
    initdb.false) rb_postgres_scratch_initdb_start ;;
    initdb.true) rb_postgres_scratch_initdb_remove ;;
    *) rb_fail "unknown engine $ENGINE" ;;
  esac
}

rb_postgres_scratch_initdb_start() {
  local started=false port
  rb_postgres_scratch_dir
  # Only a folder this action created (it holds .runbook-scratch) is ever deleted.
  if [ -e "$DIR" ] && [ -n "$(ls -A "$DIR")" ] && [ ! -e "$DIR/.runbook-scratch" ]; then
    rb_fail "$DIR exists and is not a scratch server's folder; choose another dir"
  fi
  if [ -e "$DIR/data/postmaster.pid" ]; then
    rb_say "stopping the leftover scratch server in $DIR"
    rb_postgres_scratch_as_postgres "$BIN/pg_ctl" -D "$DIR/data" -m immediate -w stop || true
  fi
  rm -rf "$DIR"
  mkdir -p "$DIR"
  touch "$DIR/.runbook-scratch"
  if [ "$(id -u)" = 0 ]; then chown postgres: "$DIR"; fi
  rb_postgres_scratch_as_postgres "$BIN/initdb" -A trust -U postgres -D "$DIR/data" -E UTF8 --locale=C.UTF-8 --no-sync > /dev/null

  # A port that is free now can be taken before the server binds it: try a few.
  for _ in 1 2 3 4 5; do
    port="$(rb_postgres_scratch_free_port)"
    if rb_postgres_scratch_as_postgres "$BIN/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w -t 60 \
      -o "-p $port -k $DIR -c listen_addresses=127.0.0.1 -c fsync=off" start > /dev/null; then
      started=true
      break
    fi
    [ -n "$WANTED_PORT" ] && break
  done
  if [ "$started" != true ]; then
    tail -n 5 "$DIR/server.log" >&2 || true
    rb_fail "cannot start the scratch server in $DIR"
  fi
  echo "$port" > "$DIR/port"
  rb_say "$NAME listens on 127.0.0.1:$port (data in $DIR/data)"
  rb_output host 127.0.0.1
  rb_output port "$port"
  rb_output user postgres
  rb_output dir "$DIR"
}

rb_postgres_scratch_initdb_remove() {
  local pid
  rb_postgres_scratch_dir
  if [ ! -e "$DIR" ]; then
    rb_say "nothing to remove at $DIR"
    return 0
  fi
  if [ ! -e "$DIR/.runbook-scratch" ]; then
    rb_fail "$DIR is not a scratch server's folder; not removing it"
  fi
  if [ -e "$DIR/data/postmaster.pid" ]; then
    pid="$(head -n 1 "$DIR/data/postmaster.pid")"
    rb_postgres_scratch_as_postgres "$BIN/pg_ctl" -D "$DIR/data" -m fast -w -t 60 stop > /dev/null
    rb_output pid "$pid"
  fi
  rm -rf "$DIR"
  rb_say "removed $NAME ($DIR)"
}

# rb_postgres_scratch_dir: DIR, or its default when empty: a folder named for NAME under $TMPDIR.
rb_postgres_scratch_dir() {
  DIR="${DIR:-${TMPDIR:-/tmp}/runbook-scratch-$NAME}"
}

# rb_postgres_scratch_as_postgres COMMAND…: initdb and pg_ctl refuse to run as root: run them as the
# postgres user then.
rb_postgres_scratch_as_postgres() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

rb_postgres_scratch_docker_start() {
  local port
  rb_postgres_scratch_docker_own
  docker rm -f -v "$NAME" > /dev/null 2>&1 || true
  port="$(rb_postgres_scratch_free_port)"
  # The host's network with the server on its loopback only: no port publishing, so it runs on an
  # engine without a bridge too, and nothing listens beyond 127.0.0.1. The labels mark the container
  # as this action's (nothing else is ever removed) and record its port for the verification.
  # --pull missing: an image already on the machine is used as it is (a host without a registry).
  docker run -d --pull missing --name "$NAME" --label dev.runbook.scratch=true --label "dev.runbook.scratch-port=$port" \
    --network host -e POSTGRES_HOST_AUTH_METHOD=trust "$IMAGE" postgres -c listen_addresses=127.0.0.1 -c "port=$port" > /dev/null
  # The image's own tools, through docker exec: the host needs no PostgreSQL client.
  PG_CONTAINER="$NAME" PG_CONTAINER_PORT="$port" PG_USER=postgres rb_pg_wait_ready postgres
  rb_say "$NAME listens on 127.0.0.1:$port"
  rb_output host 127.0.0.1
  rb_output port "$port"
  rb_output user postgres
  rb_output container "$NAME"
}

rb_postgres_scratch_docker_remove() {
  rb_postgres_scratch_docker_own
  docker rm -f -v "$NAME" > /dev/null 2>&1 || true
  rb_say "removed container $NAME"
}

# rb_postgres_scratch_docker_own: fails when a container named NAME exists that this action did
# not create (it lacks the dev.runbook.scratch label): it is someone's, and never removed.
rb_postgres_scratch_docker_own() {
  local label
  label="$(docker container inspect -f '{{index .Config.Labels "dev.runbook.scratch"}}' "$NAME" 2> /dev/null)" || return 0
  if [ "$label" != true ]; then
    rb_fail "a container named $NAME exists that is no scratch server of this action; not touching it (choose another name)"
  fi
}

# rb_postgres_scratch_free_port: WANTED_PORT, or a free port on 127.0.0.1 (nothing answers there).
rb_postgres_scratch_free_port() {
  local port
  for _ in $(seq 1 20); do
    port="${WANTED_PORT:-$((20000 + RANDOM % 30000))}"
    if ! (exec 3<> "/dev/tcp/127.0.0.1/$port") 2> /dev/null; then
      echo "$port"
      return 0
    fi
    [ -z "$WANTED_PORT" ] || rb_fail "port $port is in use"
  done
  rb_fail "no free port found on 127.0.0.1"
}
