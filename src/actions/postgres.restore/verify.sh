# shellcheck shell=bash
# postgres.restore verify: the database has exactly the manifest's tables, each with the manifest's
# exact count(*), and the owner, ACL, settings, comment and extension owners the manifest recorded.
# The database is counted while the manifest downloads: two independent waits, overlapped.
# Inputs: the target (lib/postgres.sh), DATABASE LOCATION BACKUP (latest or an id; the backup this
# step's run restored, from its outputs, comes first) SIGNERS ALLOW_UNSIGNED.
rb_postgres_restore_verify() {
  # shellcheck disable=SC2034 # read by rb_say and rb_fail (lib/step.sh)
  RB_ACTION=postgres.restore
  local counts tables
  BACKUP="$(rb_backup_of_run "$BACKUP")"
  rb_work pgrestore-verify
  rb_pg_wait_ready "$DATABASE"
  COUNT_PID=
  rb_on_exit rb_postgres_restore_stop_count
  rb_pg_count_rows "$DATABASE" > "$WORK/counts" 2> "$WORK/counts.err" &
  COUNT_PID=$!
  BACKUP="$(rb_backup_pick "$LOCATION" "$BACKUP" "$WORK/manifest.json")"
  if ! wait "$COUNT_PID"; then
    COUNT_PID=
    cat "$WORK/counts.err" >&2
    rb_fail "cannot count the rows of $DATABASE at $(rb_pg_where)"
  fi
  COUNT_PID=
  counts="$(cat "$WORK/counts")"
  tables="$(rb_pg_compare_counts "$WORK/manifest.json" "$counts" "$DATABASE")"
  rb_pg_compare_database "$WORK/manifest.json" "$(rb_pg_database_properties "$DATABASE")" "$DATABASE"
  echo "verified $DATABASE: $tables tables match the row counts of backup $BACKUP$(rb_postgres_restore_properties_checked)"
}

# rb_postgres_restore_properties_checked: what the verification also compared, for its message.
rb_postgres_restore_properties_checked() {
  if jq -e '.database != null' "$WORK/manifest.json" > /dev/null; then
    echo "; owner, ACL, settings, comment and extension owners match"
  fi
}

# Exit handler: the count still running when the verification failed early.
rb_postgres_restore_stop_count() {
  [ -z "$COUNT_PID" ] || kill "$COUNT_PID" 2> /dev/null
}
