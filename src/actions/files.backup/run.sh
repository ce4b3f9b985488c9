# shellcheck shell=bash
# files.backup run: copies a directory tree into a new backup folder TO/YYYY-MM-DDTHHMMSSZ/files/ and
# writes its manifest.json last: every file's size, sha256, uid, gid and mode, and every folder's
# uid, gid and mode (empty folders too), which no rclone remote keeps.
#
# A file that changes while the backup runs: the source is listed before and after the copy; when
# the two listings differ (content, owner or mode) or one lacks an owner, the copy (a sync into
# this backup's own folder, so only the changed files move) and the listing are repeated, at most 3
# rounds, then the step fails. The manifest is the listing that held across a whole copy-and-check,
# so it describes what was stored.
# A source without files is refused before anything is stored: a volume that is not mounted or a
# wrong path looks exactly like that, and its "backup" would verify. ALLOW_EMPTY=true accepts it.
# `--fast-list` lists a tree in one recursive listing: fewer S3 requests (and per-directory listing
# of rclone 1.60 against s3rver misses files).
# Inputs: SOURCE (a local folder) TO EXCLUDE (a bash array of rclone filter patterns left out of the
# backup, its manifest and its checks) ALLOW_EMPTY; RB_RUNBOOK RB_STEP name the manifest's runbook
# when run by hand.
rb_files_backup_run() {
  # shellcheck disable=SC2034 # RB_ACTION names the action in the messages of lib/ functions (rb_fail)
  local RB_ACTION=files.backup round dest
  rb_files_backup_filters
  rb_work files-backup
  rb_files_backup_list > "$WORK/before.json"
  rb_files_backup_has_files "$WORK/before.json" ||
    rb_fail "the source $SOURCE is empty or not mounted; nothing was stored (allow_empty: true accepts an empty source)"
  rb_backup_start
  dest="$TO/$ID"

  # An allowed empty source copies nothing, and the verification lists the folder all the same.
  rclone mkdir "$dest/files"
  # Copy and check; a listing that differs before and after means a file changed meanwhile: go again.
  for round in 1 2 3; do
    rclone sync --fast-list --stats "${RUNBOOK_PROGRESS_INTERVAL:-5}s" --stats-one-line --stats-log-level NOTICE "${FILTERS[@]}" "$SOURCE" "$dest/files"
    rclone check --fast-list "${FILTERS[@]}" "$SOURCE" "$dest/files"
    rb_files_backup_list > "$WORK/after.json"
    if cmp -s "$WORK/before.json" "$WORK/after.json" && rb_files_backup_settled "$WORK/after.json"; then break; fi
    if [ "$round" = 3 ]; then
      echo "files under $SOURCE kept changing during the backup" >&2
      exit 1
    fi
    mv "$WORK/after.json" "$WORK/before.json"
  done

  # The manifest goes last: until it exists the folder is an incomplete backup.
  rb_manifest_write files --arg source "$SOURCE" --slurpfile listing "$WORK/after.json" "$(rb_jq_files_backup_manifest)"
  rclone copyto "$WORK/manifest.json" "$dest/manifest.json"
  echo "backed up $(jq '.files | length' "$WORK/manifest.json") files and $(jq '.dirs | length' "$WORK/manifest.json") folders to $dest"
}

# rb_files_backup_filters: sets FILTERS, the rclone arguments for the EXCLUDE patterns.
rb_files_backup_filters() {
  local pattern
  FILTERS=()
  for pattern in "${EXCLUDE[@]}"; do
    FILTERS+=(--exclude "$pattern")
  done
}

# rb_files_backup_list: files and folders under SOURCE (FILTERS applied) as files-backup-list.jq
# makes them: rclone's listing (sha256 hashed here, locally) joined with one `find` for owners and modes.
rb_files_backup_list() {
  if [ ! -d "$SOURCE" ]; then
    rb_fail "the source $SOURCE is no folder (missing, or not mounted); nothing was stored"
  fi
  rb_files_tree "$SOURCE" "$WORK/tree"
  rclone lsjson -R --fast-list --hash --hash-type sha256 "${FILTERS[@]}" "$SOURCE" |
    jq -c --rawfile tree "$WORK/tree" "$(rb_jq_files_tree)$(rb_jq_files_backup_list)"
}

# rb_files_backup_settled LISTING: whether every entry has its owner and mode; one without was
# created between rclone's listing and find's, so the source changed.
rb_files_backup_settled() {
  jq -e '[.files[], .dirs[]] | all(.uid != null)' "$1" > /dev/null
}

# rb_files_backup_has_files LISTING: whether the listing (or a manifest) holds a file, or ALLOW_EMPTY
# is true and so no file is as good.
rb_files_backup_has_files() {
  [ "${ALLOW_EMPTY:-false}" = true ] || [ "$(jq '.files | length' "$1")" != 0 ]
}
