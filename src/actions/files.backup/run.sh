# shellcheck shell=bash
# files.backup run: copies a directory tree into a new backup folder TO/YYYY-MM-DDTHHMMSSZ/files/ and
# writes its manifest.json (every file's size and sha256) last.
#
# A file that changes while the backup runs: the source is listed with sha256 before and after the
# copy; when the two listings differ, the copy (a sync into this backup's own folder, so only the
# changed files move) and the listing are repeated, at most 3 rounds, then the step fails. The
# manifest is the listing that held across a whole copy-and-check, so it describes what was stored.
# `--fast-list` lists a tree in one recursive listing: fewer S3 requests (and per-directory listing
# of rclone 1.60 against s3rver misses files).
# Inputs: SOURCE TO EXCLUDE (a bash array of rclone filter patterns left out of the backup, its
# manifest and its checks); RB_RUNBOOK RB_STEP name the manifest's runbook when run by hand.
rb_files_backup_run() {
  local round dest
  rb_files_backup_filters
  rb_work files-backup
  rb_backup_start
  dest="$TO/$ID"

  # Copy and check; a listing that differs before and after means a file changed meanwhile: go again.
  rb_files_backup_list > "$WORK/before.json"
  for round in 1 2 3; do
    rclone sync --fast-list --stats "${RUNBOOK_PROGRESS_INTERVAL:-5}s" --stats-one-line --stats-log-level NOTICE "${FILTERS[@]}" "$SOURCE" "$dest/files"
    rclone check --fast-list "${FILTERS[@]}" "$SOURCE" "$dest/files"
    rb_files_backup_list > "$WORK/after.json"
    if cmp -s "$WORK/before.json" "$WORK/after.json"; then break; fi
    if [ "$round" = 3 ]; then
      echo "files under $SOURCE kept changing during the backup" >&2
      exit 1
    fi
    mv "$WORK/after.json" "$WORK/before.json"
  done

  # The manifest goes last: until it exists the folder is an incomplete backup.
  rb_manifest_write files --arg source "$SOURCE" --slurpfile files "$WORK/after.json" "$(rb_jq_files_backup_manifest)"
  rclone copyto "$WORK/manifest.json" "$dest/manifest.json"
  echo "backed up $(jq '.files | length' "$WORK/manifest.json") files to $dest"
}

# rb_files_backup_filters: sets FILTERS, the rclone arguments for the EXCLUDE patterns.
rb_files_backup_filters() {
  local pattern
  FILTERS=()
  for pattern in "${EXCLUDE[@]}"; do
    FILTERS+=(--exclude "$pattern")
  done
}

# rb_files_backup_list: every file under SOURCE (FILTERS applied) as its name in the backup folder,
# size and sha256 (hashed here, locally), sorted by name.
rb_files_backup_list() {
  rclone lsjson -R --fast-list --files-only --hash --hash-type sha256 "${FILTERS[@]}" "$SOURCE" |
    jq -c 'map({name: ("files/" + .Path), bytes: .Size, sha256: .Hashes.sha256}) | sort_by(.name)'
}
