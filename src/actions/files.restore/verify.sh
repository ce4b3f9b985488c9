# shellcheck shell=bash
# files.restore verify: every file of the backup the run restored is in the tree (`rclone check`)
# with the sha256 its manifest recorded (`sha256sum -c`).
# Inputs: FROM TO BACKUP (as for the run; BACKUP is used when the run's `backup` output is absent).
rb_files_restore_verify() {
  # shellcheck disable=SC2034 # RB_ACTION names the action in the messages of lib/ functions (rb_say)
  local RB_ACTION=files.restore id checked=true
  rb_work files-restore-verify
  id="$(rb_backup_of_run "$BACKUP")"
  id="$(rb_backup_resolve "$FROM" "$id")"
  # The two checks are independent: rclone check runs while the manifest downloads and sha256sum reads the tree.
  rclone check --fast-list --one-way "$FROM/$id/files" "$TO" 2> "$WORK/check.log" &
  CHECK_PID=$!
  rb_on_exit rb_files_restore_stop_check
  rclone cat "$FROM/$id/manifest.json" > "$WORK/manifest.json"
  jq -r '.files[] | "\(.sha256)  \(.name | ltrimstr("files/"))"' "$WORK/manifest.json" > "$WORK/SHA256SUMS"
  if [ -s "$WORK/SHA256SUMS" ]; then (cd "$TO" && sha256sum --check --quiet --strict "$WORK/SHA256SUMS"); fi
  wait "$CHECK_PID" || checked=false
  CHECK_PID=
  cat "$WORK/check.log" >&2
  [ "$checked" = true ]
}

# Exit handler: stops the background rclone check when the verification ends before waiting for it.
rb_files_restore_stop_check() {
  [ -z "${CHECK_PID:-}" ] || kill "$CHECK_PID" 2> /dev/null
}
