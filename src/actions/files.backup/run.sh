# shellcheck shell=bash
# files.backup run: copies a directory tree into a new backup folder TO/YYYY-MM-DDTHHMMSSZ/files/ and
# writes its manifest.json last: every file's size, sha256, uid, gid and mode, every symbolic link's
# target, uid and gid, and every folder's uid, gid and mode (empty folders too), which no rclone
# remote keeps.
#
# Symbolic links are stored as links, never followed: every rclone call that lists, syncs or checks
# passes --links (rclone stores a link NAME as NAME.rclonelink holding its target text; a local
# destination gets the link itself), so a link to a folder does not store that folder twice, a link
# to /etc does not store /etc, and a dangling link is kept. Without --links rclone skips links with a
# NOTICE and everything verifies. A source file really named *.rclonelink cannot be told from a link
# by rclone: such a source is refused before anything is stored (rename or exclude the file).
#
# A file that changes while the backup runs: the source is listed before and after the copy; when
# the two listings differ (content, owner or mode) or one lacks an owner, the copy (a sync into
# this backup's own folder, so only the changed files move) and the listing are repeated, at most 3
# rounds, then the step fails. The manifest is the listing that held across a whole copy-and-check,
# so it describes what was stored.
# A source without files is refused before anything is stored: a volume that is not mounted or a
# wrong path looks exactly like that, and its "backup" would verify. ALLOW_EMPTY=true accepts it.
# Symbolic links count as files here: a volume that is not mounted is an empty folder, which holds no
# link either, and a tree of links only (a `current -> releases/…` volume) is real content whose
# restore is verified link by link.
# `--fast-list` lists a tree in one recursive listing: fewer S3 requests (and per-directory listing
# of rclone 1.60 against s3rver misses files).
# Inputs: SOURCE (a local folder) TO EXCLUDE (a bash array of rclone filter patterns left out of the
# backup, its manifest and its checks) ALLOW_EMPTY; RB_RUNBOOK RB_STEP name the manifest's runbook
# when run by hand.
rb_files_backup_run() {
  # shellcheck disable=SC2034 # RB_ACTION names the action in the messages of lib/ functions (rb_fail)
  local RB_ACTION=files.backup round dest
  rb_signing_key_check
  rb_files_backup_filters
  rb_work files-backup
  rb_files_backup_list "$WORK/before.json" "nothing was stored"
  rb_files_backup_has_files "$WORK/before.json" ||
    rb_fail "the source $SOURCE is empty or not mounted; nothing was stored (allow_empty: true accepts an empty source)"
  rb_backup_start
  dest="$TO/$ID"

  # An allowed empty source copies nothing, and the verification lists the folder all the same.
  rclone mkdir "$dest/files"
  # Copy and check; a listing that differs before and after means a file changed meanwhile: go again.
  for round in 1 2 3; do
    rclone sync --links --fast-list --stats "${RUNBOOK_PROGRESS_INTERVAL:-5}s" --stats-one-line --stats-log-level NOTICE "${FILTERS[@]}" "$SOURCE" "$dest/files"
    rclone check --links --fast-list "${FILTERS[@]}" "$SOURCE" "$dest/files"
    rb_files_backup_list "$WORK/after.json" "the backup $dest stays incomplete (it has no manifest)"
    if cmp -s "$WORK/before.json" "$WORK/after.json" && rb_files_backup_settled "$WORK/after.json"; then break; fi
    if [ "$round" = 3 ]; then
      echo "files under $SOURCE kept changing during the backup" >&2
      exit 1
    fi
    mv "$WORK/after.json" "$WORK/before.json"
  done

  # The manifest goes last: until it exists the folder is an incomplete backup.
  rb_manifest_write files --arg source "$SOURCE" --slurpfile listing "$WORK/after.json" "$(rb_jq_files_backup_manifest)"
  rb_manifest_upload "$dest"
  jq -r --arg dest "$dest" '"backed up \(.files | map(select(.type != "symlink")) | length) files, \(.files | map(select(.type == "symlink")) | length) symbolic links and \(.dirs | length) folders to \($dest)"' "$WORK/manifest.json"
}

# rb_files_backup_filters: sets FILTERS, the rclone arguments for the EXCLUDE patterns.
rb_files_backup_filters() {
  local pattern
  FILTERS=()
  for pattern in "${EXCLUDE[@]}"; do
    FILTERS+=(--exclude "$pattern")
  done
}

# rb_files_backup_list FILE CONSEQUENCE: writes into FILE the files, symbolic links and folders
# under SOURCE (FILTERS applied) as files-backup-list.jq makes them: rclone's listing (sha256 hashed
# here, locally) joined with one `find` for owners, modes and link targets. Fails, naming them, on
# source files named *.rclonelink, which rclone would store as links or mix up with one; the message
# ends with CONSEQUENCE.
rb_files_backup_list() {
  if [ ! -d "$SOURCE" ]; then
    rb_fail "the source $SOURCE is no folder (missing, or not mounted); nothing was stored"
  fi
  rb_files_tree "$SOURCE" "$WORK/tree"
  rclone lsjson -R --links --fast-list --hash --hash-type sha256 "${FILTERS[@]}" "$SOURCE" |
    jq -c --rawfile tree "$WORK/tree" "$(rb_jq_files_tree)$(rb_jq_files_backup_list)" > "$1"
  if [ "$(jq '.clashes | length' "$1")" != 0 ]; then
    jq -r '.clashes[:20][] | "\(.): its name ends in .rclonelink, which rclone uses to store symbolic links: it would be stored or restored as a link"' "$1" >&2
    rb_fail "the source $SOURCE holds files named *.rclonelink (rename them, or exclude them); $2"
  fi
}

# rb_files_backup_settled LISTING: whether every entry has its owner and mode; one without was
# created between rclone's listing and find's, so the source changed.
rb_files_backup_settled() {
  jq -e '[.files[], .dirs[]] | all(.uid != null)' "$1" > /dev/null
}

# rb_files_backup_has_files LISTING: whether the listing (or a manifest) holds a file or a symbolic
# link (see above: links are content), or ALLOW_EMPTY is true and so no file is as good.
rb_files_backup_has_files() {
  [ "${ALLOW_EMPTY:-false}" = true ] || [ "$(jq '.files | length' "$1")" != 0 ]
}
