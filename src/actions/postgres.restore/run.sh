# shellcheck shell=bash
# postgres.restore run: fetch a complete backup, check its sha256 (and its roles file's) before
# touching the server, create the missing roles, restore into a scratch database, give it the
# source database's own properties, compare row counts and properties, then rename it into place.
# Every statement about databases and roles runs on a maintenance database that is never DATABASE
# (rb_pg_maintenance_db): the database clients connect to by default can be restored too.
# Inputs: the target (lib/postgres.sh), DATABASE LOCATION BACKUP (latest or an id) REPLACE (true or
# false) JOBS (pg_restore jobs for a custom dump on a host target; 1 streams it) ROLES (true or
# false) ROLES_FILE SIGNERS ALLOW_UNSIGNED (whose backups are trusted: rb_backup_pick).
rb_postgres_restore_run() {
  # shellcheck disable=SC2034 # read by rb_say and rb_fail (lib/step.sh)
  RB_ACTION=postgres.restore
  local name expected_sha256 expected_bytes dump_format created roles_fields tables
  local decompress exists user_tables created_roles counts properties
  # Names stay under PostgreSQL's 63-byte limit, so they can never be truncated into DATABASE itself.
  # They are fixed, not per process: a restore killed by SIGKILL (its trap never runs) leaves them
  # behind, and the next attempt removes them instead of leaving a full copy of the data.
  SCRATCH_DB="${DATABASE:0:40}__restore"
  OLD_DB="${DATABASE:0:40}__replaced"
  MAINTENANCE_DB="$(rb_pg_maintenance_db "$DATABASE")"
  PLACED=false
  rb_work pgrestore
  rb_on_exit rb_postgres_restore_drop_scratch
  rb_pg_wait_ready "$MAINTENANCE_DB"

  # The trusted backup and the exact manifest that was checked; then only the files it lists.
  BACKUP="$(rb_backup_pick "$LOCATION" "$BACKUP" "$WORK/manifest.json")"
  rb_backup_fetch "$LOCATION" "$BACKUP" "$WORK/backup" "$WORK/manifest.json"
  # Every field the run needs from the manifest in one jq start (each costs about 15 ms), one a line.
  jq -r --arg roles "$ROLES_FILE" '(.files[0] | .name, .sha256, .bytes), (.dump.format // "plain"), .created,
    ([.files[1:][] | select(.name == $roles) | "\(.sha256) \(.bytes)"][0] // ""), (.database | tojson)
    | tostring | gsub("[\n\r]"; " ")' "$WORK/manifest.json" > "$WORK/fields"
  { read -r name; read -r expected_sha256; read -r expected_bytes; read -r dump_format; read -r created; read -r roles_fields; read -r properties; } < "$WORK/fields"
  case "$name" in
    *.zst) decompress=zstd ;;
    *.gz) decompress=gzip ;;
    *) rb_fail "unknown data file $name in $LOCATION/$BACKUP/manifest.json" ;;
  esac
  case "$name" in */* | .*) rb_fail "unsafe file name $name in the manifest" ;; esac

  # Downloaded with the manifest; nothing touches the database until the bytes are proven.
  rb_postgres_restore_prove "$name" "$expected_sha256" "$expected_bytes"
  mv "$WORK/backup/$name" "$WORK/$name"
  # The cluster's roles (backups made before roles were stored have none): proven like the dump.
  # Only a roles file the manifest lists and whose bytes match is ever moved out of $WORK/backup.
  if [ "$ROLES" = true ] && [ -z "$roles_fields" ]; then
    rb_say "$LOCATION/$BACKUP has no $ROLES_FILE (an older backup); roles are not created"
  elif [ "$ROLES" = true ]; then
    read -r expected_sha256 expected_bytes <<< "$roles_fields"
    rb_postgres_restore_prove "$ROLES_FILE" "$expected_sha256" "$expected_bytes"
    mv "$WORK/backup/$ROLES_FILE" "$WORK/$ROLES_FILE"
  fi

  if [ "$dump_format" != custom ]; then
    rb_postgres_restore_check_restrict
  fi

  exists="$(rb_sql_database_exists | rb_psql -At -d "$MAINTENANCE_DB" -v db="$DATABASE")"
  if [ "$exists" = 1 ]; then
    user_tables="$(rb_sql_count_tables | rb_psql -At -d "$DATABASE")"
    if [ "$user_tables" != 0 ] && [ "$REPLACE" != true ]; then
      rb_fail "database $DATABASE at $(rb_pg_where) is not empty ($user_tables tables); set replace: true to overwrite it (the step's input, e.g. from a runbook var: runbook exec FILE --var replace=true, then confirm the destructive step or pass --yes). Nothing was changed."
    fi
  fi

  if [ -s "$WORK/$ROLES_FILE" ]; then
    # Only CREATE ROLE (with its attributes and settings) for roles the server lacks and the
    # memberships of those: roles that exist keep what they have. One transaction: all the missing
    # roles or none.
    if ! jq -nRr --argjson privileged "$PRIVILEGED_ROLES" "$(rb_jq_apply_roles)" < "$WORK/$ROLES_FILE" > "$WORK/roles-apply.sql" 2> "$WORK/roles.err"; then
      rb_fail "$LOCATION/$BACKUP/$ROLES_FILE: $(sed 's/^jq: error ([^)]*): //' "$WORK/roles.err"). The database was not touched; restore with roles: false to leave roles alone."
    fi
    if ! created_roles="$(rb_psql -q -At -d "$MAINTENANCE_DB" < "$WORK/roles-apply.sql")"; then
      rb_fail "cannot create the roles of $LOCATION/$BACKUP/$ROLES_FILE at $(rb_pg_where) (this needs CREATEROLE, and superuser for SUPERUSER, REPLICATION or BYPASSRLS roles, which privileged_roles must name); no role was created and the database was not touched. Create them by hand and restore with roles: false."
    fi
    rb_say "created roles missing at $(rb_pg_where): ${created_roles:-none}"
  fi

  rb_say "restoring $LOCATION/$BACKUP ($created) into $SCRATCH_DB"
  rb_sql_prepare_scratch | rb_psql -q -d "$MAINTENANCE_DB" -v db="$SCRATCH_DB" -v old="$OLD_DB"
  # Its errors are kept to name a missing role; set -e does not apply inside an if condition, so
  # each variant is one command or an && chain.
  if ! rb_postgres_restore_load "$decompress" "$WORK/$name" "$dump_format" 2> "$WORK/restore.err"; then
    cat "$WORK/restore.err" >&2
    local missing_role
    missing_role="$(sed -n 's/.*role "\(.*\)" does not exist.*/\1/p' "$WORK/restore.err" | head -n 1)"
    if [ -n "$missing_role" ]; then
      rb_say "the backup needs role $missing_role, which $(rb_pg_where) lacks; restore with roles: true from a backup that has $ROLES_FILE, or create the role first. No database was left behind." >&2
    fi
    exit 1
  fi
  cat "$WORK/restore.err" >&2

  counts="$(rb_pg_count_rows "$SCRATCH_DB")"
  tables="$(rb_pg_compare_counts "$WORK/manifest.json" "$counts" "$SCRATCH_DB")"
  if [ "$properties" != null ]; then
    rb_postgres_restore_apply_database "$properties"
  fi

  rb_postgres_restore_swap
  if [ "$exists" = 1 ]; then
    rb_sql_drop_replaced | rb_psql -q -d "$MAINTENANCE_DB" -v old="$OLD_DB" \
      || rb_say "warning: could not drop the replaced database $OLD_DB; drop it by hand" >&2
  fi

  rb_say "$DATABASE restored from $LOCATION/$BACKUP ($created), $tables tables, row counts equal"
  rb_output backup "$BACKUP"
  rb_output created "$created"
  rb_output path "$LOCATION/$BACKUP"
}

# rb_postgres_restore_apply_database PROPERTIES: gives $SCRATCH_DB the source database's properties
# (the manifest's `database` object: owner, ACL, settings, comment, extension owners), then reads
# them back and compares, so nothing is renamed into place without them.
rb_postgres_restore_apply_database() {
  if ! rb_sql_apply_database | rb_psql -q -d "$SCRATCH_DB" -v db="$SCRATCH_DB" -v properties="$1" > /dev/null; then
    rb_fail "cannot give $SCRATCH_DB the owner, ACL, settings, comment or extension owners of the backup's database (see the error above); $DATABASE was not touched."
  fi
  rb_pg_compare_database "$WORK/manifest.json" "$(rb_pg_database_properties "$SCRATCH_DB")" "$SCRATCH_DB"
}

# rb_postgres_restore_swap: renames $SCRATCH_DB into place (and DATABASE, when it exists, out of
# the way). A few attempts: a client that connected between the termination of the others and the
# rename's lock is terminated by the next. If every attempt fails, DATABASE keeps its old data under
# its own name, and the exit handler drops the scratch database.
rb_postgres_restore_swap() {
  local attempt
  for attempt in 1 2 3; do
    if rb_sql_rename_into_place | rb_psql -q -d "$MAINTENANCE_DB" -v db="$DATABASE" -v scratch="$SCRATCH_DB" \
      -v old="$OLD_DB" -v exists="$exists" > /dev/null 2> "$WORK/swap.err"; then
      # The scratch database now is DATABASE: nothing left for the exit handler to drop.
      PLACED=true
      return 0
    fi
    rb_say "renaming $SCRATCH_DB into place failed (attempt $attempt of 3): $(tr '\n' ' ' < "$WORK/swap.err")" >&2
  done
  rb_fail "cannot rename $SCRATCH_DB into place; $DATABASE keeps its data. Stop its clients and run the step again."
}

# rb_postgres_restore_load DECOMPRESS FILE FORMAT: restores the dump FILE into $SCRATCH_DB: a plain
# dump through psql in one transaction, a custom one through pg_restore, with JOBS parallel jobs
# when the target is a host (pg_restore -j needs a seekable file on the machine running it, which a
# container does not see). Explicit returns: it runs as an if condition, where bash ignores set -e.
rb_postgres_restore_load() {
  if [ "$3" != custom ]; then
    "$1" -dc "$2" | rb_postgres_restore_restricted | rb_psql -q --single-transaction -d "$SCRATCH_DB" > /dev/null
  elif [ -z "$PG_CONTAINER" ] && [ "$JOBS" -ge 2 ]; then
    "$1" -dc "$2" > "$WORK/dump.custom" || return 1
    rb_pg pg_restore -w --exit-on-error -j "$JOBS" -d "$SCRATCH_DB" "$WORK/dump.custom"
  else
    "$1" -dc "$2" | rb_pg pg_restore -w --exit-on-error -d "$SCRATCH_DB"
  fi
}

# rb_postgres_restore_restricted: the plain dump on stdin, to stdout, inside this restore's own
# `\restrict KEY` … `\unrestrict KEY` (KEY random, unknown to whoever wrote the dump), so psql
# refuses every other backslash command in it: `\!`, `\o |cmd`, `\copy … program`, `\gexec`, `\i`
# would otherwise run as the restoring user (root) from a dump rewritten in the bucket, checksums
# and all. The dump's own outermost pair (pg_dump 15.14+ writes `\restrict K` before its first
# statement and `\unrestrict K` as its last line) is removed, since psql cannot nest them; any other
# \unrestrict fails on the wrong key, which stops the restore (ON_ERROR_STOP).
rb_postgres_restore_restricted() {
  local key
  key="$(od -An -tx1 -N24 /dev/urandom | tr -d ' \n')"
  printf '\\restrict %s\n' "$key"
  LC_ALL=C awk '
    !started && /^\\restrict [A-Za-z0-9]+$/ && own == "" { own = substr($0, 11); next }
    !started && ($0 == "" || /^--/) { print; next }
    { started = 1 }
    # The last non-empty line is held back until another follows: it may be the closing \unrestrict.
    $0 == "" { blanks = blanks "\n"; next }
    { if (held != "") printf "%s\n%s", held, blanks; else printf "%s", blanks; held = $0; blanks = "" }
    END { if (held != "" && !(own != "" && held == "\\unrestrict " own)) print held; printf "%s", blanks }'
  printf '\\unrestrict %s\n' "$key"
}

# rb_postgres_restore_check_restrict: fails, before anything is changed, when the psql that would
# restore a plain dump (the container's, for a container target) has no \restrict (psql before
# 15.14, 16.10, 17.6): it could not refuse the dump's meta-commands, and a plain dump is never
# restored without that protection.
rb_postgres_restore_check_restrict() {
  if ! printf '\\restrict runbookprobe\n\\unrestrict runbookprobe\n' | rb_psql -q -d "$MAINTENANCE_DB" > /dev/null 2> "$WORK/restrict.err"; then
    rb_fail "the psql at $(rb_pg_where) has no \\restrict ($(tr '\n' ' ' < "$WORK/restrict.err")): without it a plain-format dump rewritten in the bucket could run shell commands through psql meta-commands, so it is not restored. Use psql 15.14, 16.10, 17.6 or later (in the container, for a container target), or backups in format: custom. Nothing was changed."
  fi
}

# Exit handler: a failed restore leaves no half-restored database behind.
rb_postgres_restore_drop_scratch() {
  [ "$PLACED" != true ] || return 0
  rb_sql_drop_scratch | rb_psql -q -d "$MAINTENANCE_DB" -v db="$SCRATCH_DB" > /dev/null 2>&1 || true
}

# rb_postgres_restore_prove NAME SHA256 BYTES: fails unless $WORK/backup/NAME, a file of backup
# $LOCATION/$BACKUP, exists with exactly the bytes and sha256 its manifest lists.
rb_postgres_restore_prove() {
  local file="$WORK/backup/$1" got_sha256 got_bytes
  if [ ! -f "$file" ]; then
    rb_fail "$LOCATION/$BACKUP has no $1, which its manifest lists. The database was not touched."
  fi
  got_sha256="$(sha256sum "$file")"
  got_sha256="${got_sha256%% *}"
  got_bytes="$(stat -c %s "$file")"
  if [ "$got_sha256" != "$2" ] || [ "$got_bytes" != "$3" ]; then
    rb_fail "$LOCATION/$BACKUP/$1 is $got_bytes bytes, sha256 $got_sha256; manifest says $3 bytes, sha256 $2. The database was not touched."
  fi
}
