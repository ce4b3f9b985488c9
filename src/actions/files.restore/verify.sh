# shellcheck shell=bash
# files.restore verify: the tree holds the backup the run restored. Every file of its manifest is
# there with the manifest's size and sha256 and, when recorded, uid, gid and mode; every recorded
# folder has its uid, gid and mode (files-restore-differences.jq); and `rclone check` finds every
# stored file in the tree. A manifest without files fails: it proves no restore. Symbolic links: each
# must be a link with the recorded target, uid and gid, and rclone check compares them (--links, as
# the run copied them: a stored NAME.rclonelink against the link NAME).
# One `find` of the tree and one `sha256sum` for all files, however many.
# Inputs: FROM TO BACKUP (as for the run; BACKUP is used when the run's `backup` output is absent).
rb_files_restore_verify() {
  # shellcheck disable=SC2034 # RB_ACTION names the action in the messages of lib/ functions (rb_say)
  local RB_ACTION=files.restore id files links checked=true
  rb_work files-restore-verify
  id="$(rb_backup_of_run "$BACKUP")"
  id="$(rb_backup_resolve "$FROM" "$id")"
  rclone cat "$FROM/$id/manifest.json" > "$WORK/manifest.json"
  files="$(jq -r "$(rb_jq_files_restore_count)" "$WORK/manifest.json")"
  if [ "$files" = 0 ]; then
    rb_fail "backup $id lists no files: there is nothing to verify, so the restore proves nothing"
  fi
  links="$(rb_files_restore_links_flag)"
  # The two checks are independent: rclone check runs while the tree is read.
  rclone check ${links:+"$links"} --fast-list --one-way "$FROM/$id/files" "$TO" 2> "$WORK/check.log" &
  CHECK_PID=$!
  rb_on_exit rb_files_restore_stop_check
  rb_files_restore_differences > "$WORK/differences.json"
  wait "$CHECK_PID" || checked=false
  CHECK_PID=
  cat "$WORK/check.log" >&2
  rb_files_restore_report "$WORK/differences.json" "$id"
  [ "$checked" = true ]
}

# rb_files_restore_differences: files-restore-differences.jq of the manifest against TO.
rb_files_restore_differences() {
  local tree
  tree="$(rb_jq_files_tree)"
  rb_files_tree "$TO" "$WORK/tree"
  jq -j --rawfile tree "$WORK/tree" "$tree$(rb_jq_files_restore_present)" "$WORK/manifest.json" |
    (cd "$TO" && xargs -0r sha256sum --zero --) > "$WORK/sums"
  jq -c --arg to "$TO" --rawfile tree "$WORK/tree" --rawfile sums "$WORK/sums" "$tree$(rb_jq_files_restore_differences)" "$WORK/manifest.json"
}

# rb_files_restore_report DIFFERENCES ID: when there are differences, prints the first 20 of them
# and how many more on stderr, and fails.
rb_files_restore_report() {
  local count
  count="$(jq length "$1")"
  if [ "$count" != 0 ]; then
    rb_say "$TO differs from backup $2 in $count places:" >&2
    jq -r '.[:20][], if length > 20 then "and \(length - 20) more" else empty end' "$1" >&2
    exit 1
  fi
}

# Exit handler: stops the background rclone check when the verification ends before waiting for it.
rb_files_restore_stop_check() {
  [ -z "${CHECK_PID:-}" ] || kill "$CHECK_PID" 2> /dev/null
}
