# shellcheck shell=bash
# Finding, fetching and recording backups the same way in every action (docs/design.md §6): each
# backup is a folder DEST/YYYY-MM-DDTHHMMSSZ/ named for its start in UTC, and it is complete once
# its manifest.json, written last, exists. Ids sort as times.

# rb_backup_ids: reads `rclone lsf -R --files-only` lines on stdin, prints the ids of the folders
# that hold a manifest.json (the complete backups), oldest first. A name that is not a real UTC
# time (a 30th of February, a 25th hour) is no backup id, as in src/backup/id.ts.
rb_backup_ids() {
  sed -n -E 's:^([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{6}Z)/manifest\.json$:\1:p' | awk '{
    y = substr($0, 1, 4) + 0; m = substr($0, 6, 2) + 0; d = substr($0, 9, 2) + 0
    days = substr("312831303130313130313031", 2 * m - 1, 2) + 0
    if (m == 2 && (y % 4 == 0 && (y % 100 != 0 || y % 400 == 0))) days = 29
    if (m >= 1 && m <= 12 && d >= 1 && d <= days && substr($0, 12, 2) + 0 < 24 && substr($0, 14, 2) + 0 < 60 && substr($0, 16, 2) + 0 < 60) print
  }' | sort
}

# rb_backup_resolve LOCATION BACKUP: prints BACKUP, or for `latest` the newest complete backup
# under LOCATION; fails when there is none.
rb_backup_resolve() {
  local listing newest
  if [ "$2" != latest ]; then
    printf '%s\n' "$2"
    return 0
  fi
  if ! listing="$(rclone lsf -R --max-depth 2 --files-only "$1")"; then
    rb_say "cannot list $1" >&2
    return 1
  fi
  newest="$(printf '%s\n' "$listing" | rb_backup_ids | tail -n 1)"
  if [ -z "$newest" ]; then
    rb_say "no complete backup (a folder with manifest.json) under $1" >&2
    return 1
  fi
  printf '%s\n' "$newest"
}

# rb_backup_of_run FALLBACK: the backup this step's run used (its `backup` output), else FALLBACK.
rb_backup_of_run() {
  local used=
  if [ -f "${RUNBOOK_OUTPUT:-}" ]; then
    used="$(sed -n 's/^backup=//p' "$RUNBOOK_OUTPUT" | tail -n 1)"
  fi
  printf '%s\n' "${used:-$1}"
}

# rb_backup_manifest LOCATION BACKUP FILE: downloads the backup's manifest.json into FILE.
rb_backup_manifest() {
  if ! rclone cat "$1/$2/manifest.json" > "$3" 2> "$3.err" || [ ! -s "$3" ]; then
    cat "$3.err" >&2
    rb_say "backup $1/$2 not found or incomplete (no manifest.json)" >&2
    return 1
  fi
}

# rb_backup_fetch LOCATION BACKUP FOLDER: downloads the whole backup folder into FOLDER with one
# rclone start. Nothing in it is trusted yet: the caller checks each file against the manifest.
rb_backup_fetch() {
  local copied=true
  # --ignore-checksum: rclone's own md5 check would stop at a damaged object with a transfer error
  # (and retry it), where the caller's sha256 check against the manifest names the file and refuses.
  rclone copy --fast-list --ignore-checksum "$1/$2" "$3" 2> "$3.err" || copied=false
  if [ ! -s "$3/manifest.json" ]; then
    cat "$3.err" >&2
    rb_say "backup $1/$2 not found or incomplete (no manifest.json)" >&2
    return 1
  fi
  if [ "$copied" != true ]; then
    cat "$3.err" >&2
    rb_say "cannot download $1/$2" >&2
    return 1
  fi
}

# rb_backup_start: sets NOW (seconds since the epoch, UTC) and ID (the new backup's folder name),
# and publishes ID as the step's `backup` output.
rb_backup_start() {
  NOW="$(date -u +%s)"
  ID="$(date -u -d "@$NOW" +%Y-%m-%dT%H%M%SZ)"
  rb_output backup "$ID"
}

# rb_manifest_write KIND [JQ_ARGS…] EXTRA: writes $WORK/manifest.json for backup $ID started at
# $NOW: format, kind, id, created and the runbook's identity (exec exports RUNBOOK_*; by hand,
# RB_RUNBOOK and RB_STEP stand in), merged with the jq object EXTRA built from JQ_ARGS.
rb_manifest_write() {
  local kind=$1
  shift
  local extra=${*: -1}
  jq -n \
    --arg kind "$kind" --arg id "$ID" --arg created "$(date -u -d "@$NOW" +%Y-%m-%dT%H:%M:%SZ)" \
    --arg runbook "${RUNBOOK_NAME:-${RB_RUNBOOK:-unknown}}" --arg commit "${RUNBOOK_COMMIT:-}" \
    --arg run_id "${RUNBOOK_RUN_ID:-}" --arg step "${RUNBOOK_STEP:-${RB_STEP:-unknown}}" \
    "${@:1:$#-1}" \
    '{format: "runbook-backup/1", kind: $kind, id: $id, created: $created, runbook: {name: $runbook, commit: $commit, run_id: $run_id, step: $step}} + '"$extra" \
    > "$WORK/manifest.json"
}
