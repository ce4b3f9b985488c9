# shellcheck shell=bash
# files.restore verify: the tree holds the backup the run restored. Every file of its manifest is
# there with the manifest's size and sha256 and, when recorded, uid, gid and mode; every symbolic
# link is a link with the recorded target, uid and gid; every recorded folder has its uid, gid and
# mode (files-restore-differences.jq). The manifest is the trusted one (rb_backup_pick: signature,
# completeness), so the tree is compared with what the server recorded, not with whatever the store
# holds now; the run proved the stored bytes against it before writing. A manifest without files
# fails: it proves no restore. One `find` of the tree and one `sha256sum` for all files, however many.
# Inputs: FROM TO BACKUP (as for the run; BACKUP is used when the run's `backup` output is absent)
# SIGNERS ALLOW_UNSIGNED.
rb_files_restore_verify() {
  # shellcheck disable=SC2034 # RB_ACTION names the action in the messages of lib/ functions (rb_say)
  local RB_ACTION=files.restore id files
  rb_work files-restore-verify
  id="$(rb_backup_of_run "$BACKUP")"
  id="$(rb_backup_pick "$FROM" "$id" "$WORK/manifest.json")"
  files="$(jq -r "$(rb_jq_files_restore_count)" "$WORK/manifest.json")"
  if [ "$files" = 0 ]; then
    rb_fail "backup $id lists no files: there is nothing to verify, so the restore proves nothing"
  fi
  rb_files_restore_differences > "$WORK/differences.json"
  rb_files_restore_report "$WORK/differences.json" "$id"
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
