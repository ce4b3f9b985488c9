# shellcheck shell=bash
# files.restore run: copies the files of a complete backup into a directory tree; files there that
# the backup lacks are kept, files in the backup are written over.
# Inputs: FROM (the backups' location) TO (the tree) BACKUP (`latest` or a backup's id).
rb_files_restore_run() {
  # shellcheck disable=SC2034 # RB_ACTION names the action in the messages of lib/ functions (rb_say)
  local RB_ACTION=files.restore id files
  rb_work files-restore
  id="$(rb_backup_resolve "$FROM" "$BACKUP")"
  rb_output backup "$id"
  # Only a complete backup (its manifest exists and parses) is restored.
  rclone cat "$FROM/$id/manifest.json" > "$WORK/manifest.json"
  files="$(jq -r "$(rb_jq_files_restore_count)" "$WORK/manifest.json")"
  mkdir -p "$TO"
  rclone copy --fast-list --stats "${RUNBOOK_PROGRESS_INTERVAL:-5}s" --stats-one-line --stats-log-level NOTICE "$FROM/$id/files" "$TO"
  echo "restored $files files of $id into $TO"
}
