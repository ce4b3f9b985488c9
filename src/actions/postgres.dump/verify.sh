# shellcheck shell=bash
# postgres.dump verify: each stored file's sha256 and size equal the manifest's (the dump, and the
# roles file after it in backups that have one); row counts are recorded, and a manifest without
# tables is only accepted for a source database that has none.
# Inputs: the target (lib/postgres.sh), DATABASE, LOCATION (the dump's destination) ROLES_FILE; the
# backup is the one this step's run wrote (from its outputs), else the newest complete one.
rb_postgres_dump_verify() {
  # shellcheck disable=SC2034 # read by rb_say and rb_fail (lib/step.sh)
  RB_ACTION=postgres.dump
  local table_count name expected_sha256 expected_bytes stored_sha256 stored_bytes
  rb_work pgdump-verify
  BACKUP="$(rb_backup_resolve "$LOCATION" "$(rb_backup_of_run latest)")"
  rb_backup_manifest "$LOCATION" "$BACKUP" "$WORK/manifest.json"
  rb_manifest_check_signature "$LOCATION/$BACKUP" "$WORK/manifest.json"
  # One jq for the checks and the fields (each jq start costs more than the work). The dump is
  # files[0]; backups older than the roles file have nothing after it.
  jq -er --arg roles "$ROLES_FILE" 'if .format == "runbook-backup/1" and .kind == "postgres"
    and ((.files | length) == 1 or ((.files | length) == 2 and .files[1].name == $roles))
    and (.tables | type) == "object" and all(.tables[]; type == "number")
    then .files[] | [.name, .sha256, (.bytes | tostring)] | join(" ")
    else false end' "$WORK/manifest.json" > "$WORK/files" \
    || rb_fail "$LOCATION/$BACKUP/manifest.json lacks files or row counts"
  table_count="$(jq '.tables | length' "$WORK/manifest.json")"
  if [ "$table_count" = 0 ]; then
    rb_postgres_dump_verify_empty_source
  fi
  # The one read-back of the upload, whatever hash the remote has or lacks: the stored bytes are
  # streamed (no local copy) through the hash; equal sha256 means equal content. The size comes from
  # the listing (no second read): teeing the stream into wc -c measured slower than asking for it.
  while read -r name expected_sha256 expected_bytes <&3; do
    stored_sha256="$(rclone cat "$LOCATION/$BACKUP/$name" | rb_postgres_dump_sha256)"
    stored_bytes="$(rclone size --json "$LOCATION/$BACKUP/$name" | jq '.bytes')"
    if [ "$stored_sha256" != "$expected_sha256" ] || [ "$stored_bytes" != "$expected_bytes" ]; then
      rb_fail "$LOCATION/$BACKUP/$name is $stored_bytes bytes, sha256 $stored_sha256; manifest says $expected_bytes bytes, sha256 $expected_sha256"
    fi
    echo "verified $LOCATION/$BACKUP/$name: $stored_bytes bytes, sha256 $stored_sha256"
  done 3< "$WORK/files"
  echo "verified $LOCATION/$BACKUP: $table_count tables counted"
}

# rb_postgres_dump_verify_empty_source: a backup that counted no tables is only complete when the
# source has none: otherwise it is an empty backup (of the wrong database, or of one not yet
# restored), which must never count as one.
rb_postgres_dump_verify_empty_source() {
  local source_tables
  source_tables="$(rb_sql_count_tables | rb_psql -At -d "$DATABASE")"
  if [ "$source_tables" != 0 ]; then
    rb_fail "$LOCATION/$BACKUP/manifest.json lists no tables, but $DATABASE at $(rb_pg_where) has $source_tables: the backup is empty"
  fi
}

# rb_postgres_dump_sha256: the sha256 of stdin, in hex. openssl when there is
# one: coreutils' sha256sum does not use the CPU's SHA instructions (3x slower here), and every CPU
# second counts while pg_dump, the server and the compressor share the machine.
rb_postgres_dump_sha256() {
  if command -v openssl > /dev/null; then
    openssl dgst -sha256 -r | cut -d ' ' -f 1
  else
    sha256sum | cut -d ' ' -f 1
  fi
}
