# shellcheck shell=bash
# files.restore run: copies the files of a trusted complete backup into a directory tree; files there that
# the backup lacks are kept, files in the backup are written over. Then every file and folder the
# manifest records (folders are created, empty ones too: no rclone remote stores a folder) gets its
# recorded uid, gid and mode, numeric, as the containers that own them expect. Giving files other
# owners needs root; a restore that cannot fails rather than leave a tree its services cannot use.
# A manifest without these fields (an older backup) restores as before: owners are not changed.
#
# Symbolic links come back as links with their recorded target (made from the manifest in staging,
# moved with rclone --links) and owner (`chown -h`); a link is never given a mode
# (chmod follows links) and never followed: before anything is written, a link already in the tree
# where the backup has a folder or a file (above or at a restored entry) fails the restore, since
# rclone, chown and chmod would write through it (files-restore-through.jq). An older backup that
# holds a regular file named *.rclonelink (backups made before links were kept could) is moved
# without --links, so that file comes back as the file it is.
#
# Bytes are proven before anything is written: the backup is the newest trusted complete one (or the
# named one, if trusted: rb_backup_pick), its manifest the exact bytes that were checked; only the
# files that manifest lists are downloaded, into a private staging folder (0700) beside TO (the same
# filesystem, so the final move is a rename), and every one must be a regular file with the
# manifest's size and sha256. Symbolic links are made in staging from the manifest's targets (checked
# against its sha256), never from stored objects. On any difference the restore fails and TO is not
# touched; objects the manifest does not list are never downloaded, let alone written.
# Inputs: FROM (the backups' location) TO (the tree) BACKUP (`latest` or a backup's id) SIGNERS
# (public key lines) ALLOW_UNSIGNED (true or false).
rb_files_restore_run() {
  # shellcheck disable=SC2034 # RB_ACTION names the action in the messages of lib/ functions (rb_say)
  local RB_ACTION=files.restore id files links
  rb_work files-restore
  id="$(rb_backup_pick "$FROM" "$BACKUP" "$WORK/manifest.json")"
  rb_output backup "$id"
  files="$(jq -r "$(rb_jq_files_restore_count)" "$WORK/manifest.json")"
  links="$(rb_files_restore_links_flag)"
  rb_files_restore_not_through
  rb_files_restore_stage "$id"
  mkdir -p "$TO"
  # --ignore-times: every staged file replaces what is there, whatever its size and time say.
  rclone move ${links:+"$links"} --ignore-times --stats "${RUNBOOK_PROGRESS_INTERVAL:-5}s" --stats-one-line --stats-log-level NOTICE "$STAGE/files" "$TO"
  rb_files_restore_paths dir true | (cd "$TO" && xargs -0r mkdir -p --)
  # chown before chmod: chown clears a file's set-id bits.
  rb_files_restore_each owner "cannot give the restored files and folders their recorded owners (uid:gid); a restore that keeps owners must run as root" chown -h
  # Links have no mode in the manifest: chmod never runs on one (it would change the link's target).
  rb_files_restore_each mode "cannot give the restored files and folders their recorded modes" chmod
  echo "restored $files files and symbolic links of $id into $TO"
}

# rb_files_restore_stage ID: STAGE, a new private folder beside TO (in $WORK when TO's parent cannot
# hold one), holding under files/ exactly the manifest's files and symbolic links, each proven
# (files-restore-staged.jq); fails, TO untouched, on any difference. An exit handler removes it.
rb_files_restore_stage() {
  local parent
  parent="$(dirname "$TO")"
  mkdir -p "$parent"
  STAGE="$(mktemp -d "$parent/.$(basename "$TO").runbook-restore.XXXXXX" 2> /dev/null || mktemp -d "$WORK/stage.XXXXXX")"
  rb_on_exit rb_files_restore_unstage
  rb_backup_fetch "$FROM" "$1" "$STAGE" "$WORK/manifest.json"
  mkdir -p "$STAGE/files"
  rb_files_restore_make_links
  rb_files_tree "$STAGE/files" "$WORK/staged"
  jq -j --rawfile tree "$WORK/staged" "$(rb_jq_files_tree)$(rb_jq_files_restore_present)" "$WORK/manifest.json" |
    (cd "$STAGE/files" && xargs -0r sha256sum --zero --) > "$WORK/staged-sums"
  jq -r --arg from "$FROM/$1" --rawfile tree "$WORK/staged" --rawfile sums "$WORK/staged-sums" \
    "$(rb_jq_files_tree)$(rb_jq_files_restore_staged)" "$WORK/manifest.json" > "$WORK/staged-differences"
  if [ -s "$WORK/staged-differences" ]; then
    head -n 20 "$WORK/staged-differences" >&2
    rb_fail "backup $FROM/$1 does not hold the bytes its manifest lists (altered or damaged); nothing in $TO was changed"
  fi
}

# rb_files_restore_make_links: the manifest's symbolic links, made in $STAGE/files with their
# recorded targets (names and targets NUL-separated: any character but NUL).
rb_files_restore_make_links() {
  local name target
  jq -j '.files[] | select(.type == "symlink") | (.name | ltrimstr("files/")) + "\u0000" + .target + "\u0000"' "$WORK/manifest.json" |
    while IFS= read -r -d '' name && IFS= read -r -d '' target; do
      mkdir -p "$(dirname "$STAGE/files/$name")"
      ln -s -- "$target" "$STAGE/files/$name"
    done
}

# Exit handler: the staging folder goes, whatever happened (after a move, only its empty folders are left).
rb_files_restore_unstage() {
  [ -z "${STAGE:-}" ] || rm -rf -- "$STAGE"
}

# rb_files_restore_links_flag: `--links`, which rclone needs to store and restore symbolic links,
# unless the manifest lists a regular file named *.rclonelink: an older backup, made without
# --links, whose file --links would turn into a link (files.backup refuses such names since).
rb_files_restore_links_flag() {
  jq -r 'if any(.files[]; .type != "symlink" and (.name | endswith(".rclonelink"))) then "" else "--links" end' "$WORK/manifest.json"
}

# rb_files_restore_not_through: fails, changing nothing, when TO holds a symbolic link where the
# manifest has a folder or a regular file (files-restore-through.jq).
rb_files_restore_not_through() {
  [ -e "$TO" ] || return 0
  rb_files_tree "$TO" "$WORK/before"
  jq -r --arg to "$TO" --rawfile tree "$WORK/before" "$(rb_jq_files_tree)$(rb_jq_files_restore_through)" "$WORK/manifest.json" > "$WORK/through"
  if [ -s "$WORK/through" ]; then
    head -n 20 "$WORK/through" >&2
    rb_fail "$TO holds symbolic links where the backup has folders or files; the restore would write through them, so nothing was changed (remove those links, or restore into another folder)"
  fi
}

# rb_files_restore_each KEY MESSAGE COMMAND…: for each value of KEY (owner or mode) among the
# manifest's recorded entries (files-restore-recorded.jq), runs `COMMAND… VALUE -- PATH…` in TO over
# the entries that have it (a link has no mode: never chmod's): one command per value and not per
# file, so a few thousand files take seconds. When any fails: at most 20 lines of their errors, then
# MESSAGE, and the step fails.
rb_files_restore_each() {
  local key=$1 message=$2 value failed=false
  shift 2
  jq -r --arg key "$key" "$(rb_jq_files_restore_recorded)"' recorded | map(.[$key] | values) | unique[]' "$WORK/manifest.json" > "$WORK/$key.values"
  while IFS= read -r value; do
    rb_files_restore_paths "$key" "$value" | (cd "$TO" && xargs -0r "$@" "$value" --) 2>> "$WORK/$key.err" || failed=true
  done < "$WORK/$key.values"
  if [ "$failed" = true ]; then
    head -n 20 "$WORK/$key.err" >&2
    rb_fail "$message"
  fi
}

# rb_files_restore_paths KEY VALUE: the paths of the recorded entries whose KEY is VALUE (a JSON
# value as text), NUL-terminated for xargs -0.
rb_files_restore_paths() {
  jq -j --arg key "$1" --arg value "$2" "$(rb_jq_files_restore_recorded)"' recorded[] | select((.[$key] | tostring) == $value) | .path + "\u0000"' "$WORK/manifest.json"
}
