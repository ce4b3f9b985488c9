# shellcheck shell=bash
# postgres.scratch verify: the server accepts connections and answers a query; after remove, its
# container, or its folder and server process, are gone.
# Inputs: ENGINE NAME REMOVE (true or false); for initdb DIR (empty: its default).
rb_postgres_scratch_verify() {
  # shellcheck disable=SC2034 # read by rb_say and rb_fail (lib/step.sh)
  RB_ACTION=postgres.scratch
  local port
  case "$ENGINE.$REMOVE" in
    docker.false) rb_postgres_scratch_docker_accepts ;;
    docker.true) rb_postgres_scratch_docker_gone ;;
    initdb.false)
      rb_postgres_scratch_dir
      port="$(cat "$DIR/port")"
      rb_postgres_scratch_accepts "$port"
      ;;
    initdb.true) rb_postgres_scratch_initdb_gone ;;
    *) rb_fail "unknown engine $ENGINE" ;;
  esac
}

# rb_postgres_scratch_accepts PORT: a query over TCP on the port the run chose.
rb_postgres_scratch_accepts() {
  [ "$(psql -X -At -w -h 127.0.0.1 -p "$1" -U postgres -d postgres -c 'SELECT 1')" = 1 ]
  rb_say "127.0.0.1:$1 accepts connections"
}

# rb_postgres_scratch_docker_accepts: a query inside the container over the loopback port the run
# chose (its tools, not the host's), and a TCP connection to that port from the host.
rb_postgres_scratch_docker_accepts() {
  local port
  port="$(rb_postgres_scratch_docker_port)"
  [ -n "$port" ] || rb_fail "container $NAME is no scratch server of this action (it has no port label)"
  [ "$(docker exec -e "PGPORT=$port" "$NAME" psql -X -At -w -h 127.0.0.1 -U postgres -d postgres -c 'SELECT 1')" = 1 ]
  if ! (exec 3<> "/dev/tcp/127.0.0.1/$port") 2> /dev/null; then
    rb_fail "nothing accepts connections on 127.0.0.1:$port, where $NAME listens"
  fi
  rb_say "$NAME answers queries; 127.0.0.1:$port accepts connections"
}

# rb_postgres_scratch_docker_port: the loopback port the run gave the server (its container's label).
rb_postgres_scratch_docker_port() {
  docker container inspect -f '{{index .Config.Labels "dev.runbook.scratch-port"}}' "$NAME"
}

rb_postgres_scratch_initdb_gone() {
  local pid
  rb_postgres_scratch_dir
  pid="$(sed -n 's/^pid=//p' "${RUNBOOK_OUTPUT:-/dev/null}" | tail -n 1)"
  if [ -e "$DIR" ]; then rb_fail "$DIR still exists"; fi
  # A zombie (exited, not yet reaped by its parent) counts as gone.
  if [ -n "$pid" ] && [ -e "/proc/$pid" ] && ! grep -q '^[0-9]* ([^)]*) Z' "/proc/$pid/stat"; then
    rb_fail "server process $pid still runs"
  fi
  rb_say "$NAME is gone"
}

rb_postgres_scratch_docker_gone() {
  if docker container inspect "$NAME" > /dev/null 2>&1; then rb_fail "container $NAME still exists"; fi
  rb_say "container $NAME is gone"
}
