# shellcheck shell=bash
# files.backup verify: the backup the run made (or the latest complete one) against the source.
# What the checks rely on: `rclone check` compares sizes and, when both sides share a hash, that
# hash — MD5 between a local tree and S3, which rclone records for every object it uploads (the
# ETag of single-part uploads, metadata for multipart ones). A check that could compare no hash
# says "hashes could not be checked"; the verification treats that as a failure.
# Symbolic links: both rclone calls pass --links, as the run did; the check compares each link's
# target text, and the listing shows a stored link NAME as NAME.rclonelink (an S3 object holding the
# target, or the link itself in a local folder), the manifest's entry {name: NAME, type: "symlink"}.
# A manifest without files proves nothing was backed up, unless ALLOW_EMPTY=true said that is expected.
# Inputs: SOURCE TO EXCLUDE ALLOW_EMPTY (as for the run).
rb_files_backup_verify() {
  # shellcheck disable=SC2034 # RB_ACTION names the action in the messages of lib/ functions (rb_say)
  local RB_ACTION=files.backup id dest
  rb_files_backup_filters
  rb_work files-backup-verify
  id="$(rb_backup_of_run latest)"
  id="$(rb_backup_resolve "$TO" "$id")"
  dest="$TO/$id"
  rclone cat "$dest/manifest.json" > "$WORK/manifest.json"
  rb_manifest_check_signature "$dest" "$WORK/manifest.json"
  rb_files_backup_has_files "$WORK/manifest.json" ||
    rb_fail "backup $id lists no files: its source was empty or not mounted (allow_empty is not set)"
  # Sizes alone prove little: a check that compared no hash fails.
  rclone check --links --fast-list "${FILTERS[@]}" "$SOURCE" "$dest/files" 2>&1 | tee "$WORK/check.log"
  if grep -q 'hashes could not be checked' "$WORK/check.log"; then
    echo "rclone check could compare sizes only, not hashes" >&2
    exit 1
  fi
  # The stored files and links are exactly the manifest's, with the same sizes (a link's: its target's).
  rclone lsjson -R --links --fast-list --files-only "$dest/files" |
    jq -c 'map({name: ("files/" + (.Path | if endswith(".rclonelink") then .[:-11] else . end)), bytes: .Size}) | sort_by(.name)' > "$WORK/stored.json"
  jq -c '.files | map({name, bytes}) | sort_by(.name)' "$WORK/manifest.json" > "$WORK/listed.json"
  diff "$WORK/listed.json" "$WORK/stored.json"
}
