# shellcheck shell=bash
# Reaching a PostgreSQL target the same way in every postgres action (docs/design.md §5):
# the client tools run inside the server's container (docker exec) or against a host
# and port, so every action reads alike whichever the target is. And the row counts that prove a
# restore: counted the same way everywhere, compared with the manifest the dump wrote.
# Inputs: PG_CONTAINER (a container's name, or empty for a host target), PG_HOST and PG_PORT (a
# host target), PG_USER; PGPASSWORD when exported (a password secret) reaches the tools from the
# environment, never from argv.

# rb_pg TOOL ARGS…: runs TOOL (psql, pg_dump, pg_dumpall, pg_restore) against the target as PG_USER:
# `docker exec -i [-e PGPASSWORD] "$PG_CONTAINER" TOOL -U "$PG_USER" ARGS…` or
# `TOOL -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" ARGS…`. `-e PGPASSWORD` hands the container the
# variable's value from this environment; PG_CONTAINER_PORT (a server in a container listening on
# another port than 5432, as postgres.scratch's on the host's network) reaches it as PGPORT.
rb_pg() {
  local tool=$1
  shift
  if [ -n "${PG_CONTAINER:-}" ]; then
    local env=()
    if [ -n "${PGPASSWORD+set}" ]; then env=(-e PGPASSWORD); fi
    if [ -n "${PG_CONTAINER_PORT:-}" ]; then env+=(-e "PGPORT=$PG_CONTAINER_PORT"); fi
    docker exec -i "${env[@]}" "$PG_CONTAINER" "$tool" -U "$PG_USER" "$@"
  else
    "$tool" -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" "$@"
  fi
}

# rb_psql ARGS…: psql with the flags every action uses: no ~/.psqlrc, stop at the first error,
# never prompt for a password.
rb_psql() {
  rb_pg psql -X -v ON_ERROR_STOP=1 -w "$@"
}

# rb_pg_where: where the target is, for messages (`container NAME` or `HOST:PORT`).
rb_pg_where() {
  if [ -n "${PG_CONTAINER:-}" ]; then
    echo "container $PG_CONTAINER"
  else
    echo "$PG_HOST:$PG_PORT"
  fi
}

# rb_pg_count_rows DATABASE: prints one JSON line {"schema.table": rows, …} of DATABASE's user tables.
rb_pg_count_rows() {
  rb_sql_count_rows | rb_psql -At -d "$1"
}

# rb_pg_compare_counts MANIFEST COUNTS WHERE: compares COUNTS (a JSON object of exact row counts)
# with the tables of the manifest of backup $BACKUP, both ways: a table the manifest lists that
# differs or is missing, and a table the database has that the manifest lacks (an empty or partial
# backup never passes as complete). Prints one line a difference (on stderr) and fails naming WHERE;
# else prints the number of tables in the manifest. One jq start for both (each costs about 15 ms
# with jq 1.6). Explicit returns: it runs in $(…), where bash ignores set -e.
rb_pg_compare_counts() {
  local lines differences
  lines="$(jq -r --argjson got "$2" '.tables as $want
    | ($want | to_entries[] | select($got[.key] != .value)
      | "\(.key): expected \(.value), got \($got[.key] // "no such table")"),
      ($got | to_entries[] | select(.key as $name | $want | has($name) | not)
      | "\(.key): \(.value) rows, not in the manifest"),
      ($want | length)' "$1")" || return 1
  mapfile -t differences <<< "$lines"
  local tables="${differences[-1]}"
  unset 'differences[-1]'
  if [ "${#differences[@]}" -gt 0 ]; then
    printf '%s\n' "${differences[@]}" >&2
    rb_fail "row counts in $3 differ from the manifest of $BACKUP"
  fi
  echo "$tables"
}

# rb_pg_database_properties DATABASE: prints one JSON line of DATABASE's own properties (owner,
# ACL, settings, comment, extensions), the manifest's `database` object.
rb_pg_database_properties() {
  rb_sql_pg_database_properties | rb_psql -At -d "$1"
}

# rb_pg_compare_database MANIFEST PROPERTIES WHERE: compares PROPERTIES (rb_pg_database_properties)
# with the manifest's `database` object: owner, ACL, settings, comment and each extension's owner.
# Prints one line a difference (on stderr) and fails naming WHERE. A manifest without `database`
# (a backup older than this check) passes.
rb_pg_compare_database() {
  local differences
  differences="$(jq -r --argjson got "$2" "$(rb_jq_pg_database_differences)" "$1")" || return 1
  if [ -n "$differences" ]; then
    printf '%s\n' "$differences" >&2
    rb_fail "database properties of $3 differ from the manifest of $BACKUP"
  fi
}

# rb_pg_maintenance_db DATABASE: the database to connect to for statements about DATABASE
# (create, rename, drop, roles). Never DATABASE itself: the current database cannot be renamed or
# dropped. `postgres` exists in every cluster initdb made; when it is the one restored (Supabase's
# application database), template1.
rb_pg_maintenance_db() {
  if [ "$1" = postgres ]; then echo template1; else echo postgres; fi
}

# rb_pg_wait_ready DATABASE: waits until the target answers a query on DATABASE, at most
# RUNBOOK_PG_READY_TIMEOUT seconds (default 60), trying every second: a step that starts right after
# its server or container did must not fail on a socket that is not there yet. A container must
# exist and run, and answer pg_isready over TCP on its own loopback first: the official postgres
# and supabase/postgres images run their initialisation server on the unix socket only, so the
# socket answers before the database is ready and TCP only once it is.
rb_pg_wait_ready() {
  local timeout="${RUNBOOK_PG_READY_TIMEOUT:-60}" started=$SECONDS error running said=false
  while :; do
    running=true
    if [ -n "${PG_CONTAINER:-}" ]; then
      running="$(rb_pg_container_running)" || exit 1
    fi
    if [ "$running" != true ]; then
      error="container $PG_CONTAINER is not running"
    elif error="$(rb_pg_probe "$1" 2>&1)"; then
      return 0
    fi
    if [ $((SECONDS - started)) -ge "$timeout" ]; then
      rb_fail "$(rb_pg_where) did not accept a query on $1 within ${timeout}s (RUNBOOK_PG_READY_TIMEOUT); last error: ${error:-none}"
    fi
    if [ "$said" = false ]; then
      rb_say "waiting for $(rb_pg_where) to accept connections (at most ${timeout}s)"
      said=true
    fi
    sleep 1
  done
}

# rb_pg_container_running: prints true or false (docker's State.Running of PG_CONTAINER); fails the
# step at once when the container does not exist or Docker cannot be reached: waiting cannot help.
rb_pg_container_running() {
  local state
  if ! state="$(docker container inspect -f '{{.State.Running}}' "$PG_CONTAINER" 2>&1)"; then
    case "$state" in
      *"No such"*) rb_fail "container $PG_CONTAINER does not exist: $state" ;;
      *) rb_fail "cannot inspect container $PG_CONTAINER (is Docker reachable?): $state" ;;
    esac
  fi
  echo "$state"
}

# rb_pg_probe DATABASE: one readiness check, its error on stdout or stderr: pg_isready over TCP
# inside a container, then a real query. Explicit returns: it runs in $(…).
rb_pg_probe() {
  local answer
  if [ -n "${PG_CONTAINER:-}" ]; then
    answer="$(rb_pg pg_isready -h 127.0.0.1 -d "$1" 2>&1)" || { echo "$answer"; return 1; }
  fi
  [ "$(rb_psql -At -d "$1" -c 'SELECT 1')" = 1 ] || return 1
}
