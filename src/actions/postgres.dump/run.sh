# shellcheck shell=bash
# postgres.dump run: a dump of one snapshot through a compressor into a staging file, then uploaded
# (with the cluster's roles) while its sha256 is taken, manifest.json last; the verification reads
# the stored bytes back.
# Inputs: the target (lib/postgres.sh), DATABASE DEST FORMAT (plain or custom) COMPRESS (zstd or
# gzip) LEVEL (the compressor's) ROLES_FILE STAGING (the staging folder; empty: $TMPDIR or /tmp).
rb_postgres_dump_run() {
  # shellcheck disable=SC2034 # read by rb_say and rb_fail (lib/step.sh)
  RB_ACTION=postgres.dump
  local dump_file snapshot server_version properties tables roles_bytes roles_sha256 bytes sha256
  case "$FORMAT.$COMPRESS" in
    plain.zstd) dump_file=dump.sql.zst ;;
    plain.gzip) dump_file=dump.sql.gz ;;
    custom.zstd) dump_file=dump.custom.zst ;;
    custom.gzip) dump_file=dump.custom.gz ;;
    *) rb_fail "unknown format $FORMAT or compressor $COMPRESS" ;;
  esac
  rb_signing_key_check
  rb_pg_wait_ready "$DATABASE"
  rb_postgres_dump_check_readable
  # The backup's id is its start; it becomes the step's `backup` output only once it is complete.
  RUNBOOK_OUTPUT=/dev/null rb_backup_start
  TMPDIR="${STAGING:-${TMPDIR:-/tmp}}" rb_work pgdump
  # The staging files go whatever happens, and so do the helpers still running; the snapshot session
  # ends when this shell does.
  PROGRESS_PID="" ROLES_PID="" HASH_PID=""
  rb_on_exit rb_postgres_dump_stop_helpers

  # Hold one REPEATABLE READ transaction open: its snapshot is what pg_dump and the row counts see.
  coproc SNAPSHOT_SESSION { rb_psql -q -At -d "$DATABASE"; }
  local session_pid="$SNAPSHOT_SESSION_PID"
  echo 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;' >&"${SNAPSHOT_SESSION[1]}"
  echo 'SELECT pg_export_snapshot();' >&"${SNAPSHOT_SESSION[1]}"
  read -r snapshot <&"${SNAPSHOT_SESSION[0]}" || rb_fail "cannot open a snapshot on $DATABASE at $(rb_pg_where)"
  echo 'SHOW server_version;' >&"${SNAPSHOT_SESSION[1]}"
  read -r server_version <&"${SNAPSHOT_SESSION[0]}"
  # What the dump of the contents does not carry (owner, ACL, settings, comment, extension owners),
  # read in the same session: postgres.restore gives them to the restored database.
  rb_sql_pg_database_properties >&"${SNAPSHOT_SESSION[1]}"
  read -r properties <&"${SNAPSHOT_SESSION[0]}" || rb_fail "cannot read the properties of $DATABASE"
  # Exact row counts, in the same snapshot, while pg_dump runs: in a database larger than memory
  # their scans share pg_dump's reads (synchronized scans) instead of reading it all a second time.
  rb_sql_count_rows >&"${SNAPSHOT_SESSION[1]}"
  # The cluster's roles, taken once the snapshot exists so every role owning an object in it is
  # there: a fresh server lacks them, and postgres.restore creates the missing ones from this file.
  # --no-role-passwords reads pg_roles instead of pg_authid, so no superuser is needed, and keeps
  # password hashes out of the backup: restored login roles need their passwords set again. Beside
  # the dump, not after it: it is a few catalog reads.
  rb_pg pg_dumpall -w -l "$DATABASE" --roles-only --no-role-passwords > "$WORK/$ROLES_FILE" &
  ROLES_PID=$!

  rb_postgres_dump_progress "$WORK/$dump_file" &
  PROGRESS_PID=$!
  # -Z0: pg_dump's own zlib is single-threaded and slow; the compressor does the work.
  local custom=()
  if [ "$FORMAT" = custom ]; then custom=(-Fc -Z0); fi
  rb_pg pg_dump -w "${custom[@]}" --snapshot="$snapshot" -d "$DATABASE" | rb_postgres_dump_compress > "$WORK/$dump_file"
  kill "$PROGRESS_PID" 2> /dev/null || true
  PROGRESS_PID=""
  # The sha256 of the file as written, hashed from the page cache while the upload reads it too: a
  # tee into the hash inside the pipeline copied every byte once more and cost more than this read.
  rb_postgres_dump_sha256 < "$WORK/$dump_file" > "$WORK/sha256" &
  HASH_PID=$!

  wait "$ROLES_PID"
  ROLES_PID=""
  roles_bytes="$(stat -c %s "$WORK/$ROLES_FILE")"
  roles_sha256="$(rb_postgres_dump_sha256 < "$WORK/$ROLES_FILE")"
  bytes="$(stat -c %s "$WORK/$dump_file")"

  # The transaction ends as soon as the counts are in, not after a long upload.
  read -r tables <&"${SNAPSHOT_SESSION[0]}" || rb_fail "counting rows in $DATABASE failed"
  echo 'COMMIT;' >&"${SNAPSHOT_SESSION[1]}"
  echo '\q' >&"${SNAPSHOT_SESSION[1]}"
  wait "$session_pid"

  # One rclone start for the dump and the roles (each start costs more than the roles' upload),
  # one after the other by name (dump.* before roles.sql): a folder that holds the roles holds the
  # whole dump. manifest.json and the hash stay behind.
  # --checksum falls back to comparing sizes when the remote has no usable hash (multipart S3
  # uploads); the step's verification reads the stored bytes back and compares their sha256 with
  # the manifest's, so the run does not read them a second time.
  # --stats: bytes, rate and ETA of a long upload every few seconds.
  rclone copy --checksum --stats "${RUNBOOK_PROGRESS_INTERVAL:-5}s" --stats-one-line --stats-log-level NOTICE \
    --include "/$dump_file" --include "/$ROLES_FILE" --transfers 1 --order-by name,ascending "$WORK" "$DEST/$ID"
  # The hash's failure fails the step too (wait returns its status under set -e).
  wait "$HASH_PID"
  HASH_PID=""
  sha256="$(cat "$WORK/sha256")"
  rb_say "$DATABASE -> $dump_file, $bytes bytes, sha256 $sha256"

  # shellcheck disable=SC2016 # a jq program: $database and the others are jq's variables
  rb_manifest_write postgres \
    --arg database "$DATABASE" --arg container "${PG_CONTAINER:-}" --arg host "${PG_HOST:-}" --arg port "${PG_PORT:-}" \
    --arg name "$dump_file" --argjson bytes "$bytes" --arg sha256 "$sha256" \
    --arg roles_name "$ROLES_FILE" --argjson roles_bytes "$roles_bytes" --arg roles_sha256 "$roles_sha256" \
    --argjson tables "$tables" --arg server_version "$server_version" --argjson properties "$properties" \
    --arg format "$FORMAT" --arg compress "$COMPRESS" \
    '{source: (if $container != "" then {database: $database, container: $container}
               else {database: $database, host: $host, port: ($port | tonumber)} end),
      files: [{name: $name, bytes: $bytes, sha256: $sha256}, {name: $roles_name, bytes: $roles_bytes, sha256: $roles_sha256}],
      tables: $tables, server_version: $server_version, database: $properties,
      dump: {format: $format, compress: $compress}}'
  rb_manifest_upload "$DEST/$ID"

  rb_say "complete backup $DEST/$ID ($(jq 'length' <<< "$tables") tables)"
  rb_output backup "$ID"
  rb_output path "$DEST/$ID"
}

# rb_postgres_dump_check_readable: fails, before anything is dumped, when PG_USER is no superuser
# and cannot read some table or sequence of DATABASE, naming the first few: pg_dump would stop at
# the first one with "permission denied" and report a misleading "invalid snapshot identifier".
rb_postgres_dump_check_readable() {
  local unreadable count first
  unreadable="$(rb_sql_unreadable_relations | rb_psql -At -d "$DATABASE")"
  { read -r count; read -r first; } < <(jq -r '.count, (.first | join(", "))' <<< "$unreadable")
  if [ "$count" != 0 ]; then
    rb_fail "$PG_USER cannot read $count tables or sequences of $DATABASE at $(rb_pg_where) (first: $first). Dump as a superuser (for the supabase/postgres image: supabase_admin), or grant $PG_USER SELECT on them (USAGE on their schemas). Nothing was dumped."
  fi
}

# The compressor, stdin to stdout: zstd (two threads) or gzip, at LEVEL.
rb_postgres_dump_compress() {
  if [ "$COMPRESS" = gzip ]; then
    gzip "-$LEVEL" -c
  else
    zstd -q "-$LEVEL" -T2 -c
  fi
}

# rb_postgres_dump_progress FILE: every few seconds, the bytes written to FILE so far and the rate,
# until the step's shell ends (or this loop is killed).
rb_postgres_dump_progress() {
  local started written elapsed
  started="$(date +%s)"
  # sleep gets no pipe of the step: killing this loop would otherwise leave it holding them open.
  while sleep "${RUNBOOK_PROGRESS_INTERVAL:-5}" > /dev/null 2>&1 && kill -0 $$ 2> /dev/null; do
    written="$(stat -c %s "$1" 2> /dev/null || echo 0)"
    elapsed=$(($(date +%s) - started))
    rb_say "$((written / 1048576)) MiB written, $((written / 1048576 / (elapsed > 0 ? elapsed : 1))) MiB/s"
  done
}

# Exit handler: the helpers still running when the step ends (unquoted: the empty ones vanish;
# kill without a pid fails, which does not matter here).
rb_postgres_dump_stop_helpers() {
  # shellcheck disable=SC2086 # word splitting drops the pids of helpers that ended
  kill $PROGRESS_PID $ROLES_PID $HASH_PID 2> /dev/null || true
}
