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
# variable's value from this environment.
rb_pg() {
  local tool=$1
  shift
  if [ -n "${PG_CONTAINER:-}" ]; then
    local password=()
    if [ -n "${PGPASSWORD+set}" ]; then password=(-e PGPASSWORD); fi
    docker exec -i "${password[@]}" "$PG_CONTAINER" "$tool" -U "$PG_USER" "$@"
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
# with the tables of the manifest of backup $BACKUP. Prints `schema.table: expected N, got M` for
# every table that differs (on stderr) and fails naming WHERE; else prints the number of tables in
# the manifest. One jq start for both (each costs about 15 ms with jq 1.6). Explicit returns: it
# runs in $(…), where bash ignores set -e.
rb_pg_compare_counts() {
  local lines differences
  lines="$(jq -r --argjson got "$2" '(.tables | to_entries[]
    | select($got[.key] != .value)
    | "\(.key): expected \(.value), got \($got[.key] // "no such table")"), (.tables | length)' "$1")" || return 1
  mapfile -t differences <<< "$lines"
  local tables="${differences[-1]}"
  unset 'differences[-1]'
  if [ "${#differences[@]}" -gt 0 ]; then
    printf '%s\n' "${differences[@]}" >&2
    rb_fail "row counts in $3 differ from the manifest of $BACKUP"
  fi
  echo "$tables"
}
