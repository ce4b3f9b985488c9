# shellcheck shell=bash
# secrets.restore run: writes the files of a secrets backup (`latest` complete one, or an id) into
# a folder, each with its recorded mode and numeric owner (lib/secrets.sh describes the backup).
# The age identity comes from the secret KEY_SECRET names: the step's text copies its value into
# IDENTITY, which reaches a 0600 file in $WORK only (rb_secrets_identity): never a command line,
# the runbook or the log.
#
# Every check comes before anything in TO is touched: the stored file's size and sha256 against the
# manifest (before age reads it), the decryption (a wrong key fails naming the secret and the
# backup), the archive's members against the manifest's entries (each a regular file at a path that
# stays inside the folder; nothing else, nothing missing), every file against the archive's
# SHA256SUMS, and TO itself: a symbolic link or a non-folder where the backup has a folder above a
# file, or a symbolic link or a non-file where it has a file, is refused, since writing there would
# go through it or over it. Then every file is staged as a temporary file beside its place (created
# 0600, given its content, owner, mode and modification time), and only once all are staged are
# they renamed into place (`mv -T`), one rename each; a failure while staging (an owner that cannot
# be given: restore as root) removes the temporary files and replaces nothing. Folders above the
# files are created as needed (mkdir -p: owned by whoever restores, mode per umask). Files in TO
# that the backup lacks are left alone.
# Inputs: FROM (the backups' location) BACKUP (`latest` or an id) KEY_SECRET (the secret's name, for
# messages) IDENTITY (its value) TO (the folder) SIGNERS ALLOW_UNSIGNED (whose backups are trusted:
# rb_backup_pick).
rb_secrets_restore_run() {
  # shellcheck disable=SC2034 # RB_ACTION names the action in the messages of lib/ functions (rb_fail)
  local RB_ACTION=secrets.restore id untouched="nothing in $TO was touched"
  rb_work secrets-restore
  rb_secrets_identity
  id="$(rb_backup_pick "$FROM" "$BACKUP" "$WORK/manifest.json")"
  rb_output backup "$id"
  rb_secrets_fetch "$FROM" "$id" "$untouched"
  rb_secrets_open "$id" "$untouched"
  rb_secrets_entries > "$WORK/entries.tsv"
  rb_secrets_restore_check_places "$untouched"
  rb_secrets_restore_stage
  rb_secrets_restore_place
  echo "restored $(wc -l < "$WORK/entries.tsv") secret files of backup $id into $TO: $(cut -f 1 "$WORK/entries.tsv" | paste -s -d ' ')"
}

# rb_secrets_restore_check_places CONSEQUENCE: fails, naming them, when TO is no folder, or when it
# holds a symbolic link or something else than a folder where the backup has a folder above one of
# its files, or a symbolic link or something else than a regular file where it has a file.
rb_secrets_restore_check_places() {
  local path dir part target
  local -a parts
  if [ -e "$TO" ] && [ ! -d "$TO" ]; then rb_fail "$TO is not a folder; $1"; fi
  while IFS=$'\t' read -r path _; do
    IFS=/ read -r -a parts <<< "$path"
    dir=$TO
    for part in "${parts[@]:0:${#parts[@]}-1}"; do
      dir="$dir/$part"
      if [ -L "$dir" ]; then
        echo "$dir: a symbolic link where the backup has a folder"
        break
      elif [ ! -e "$dir" ]; then
        break
      elif [ ! -d "$dir" ]; then
        echo "$dir: not a folder, where the backup has one"
        break
      fi
    done
    target="$TO/$path"
    if [ -L "$target" ]; then
      echo "$target: a symbolic link where the backup has a file"
    elif [ -e "$target" ] && [ ! -f "$target" ]; then
      echo "$target: not a regular file, where the backup has one"
    fi
  done < "$WORK/entries.tsv" | sort -u > "$WORK/refused"
  if [ -s "$WORK/refused" ]; then
    head -n 20 "$WORK/refused" >&2
    rb_fail "$TO holds symbolic links or other things where the backup has files or folders: writing would go through or over them, so $1"
  fi
}

# rb_secrets_restore_stage: for each entry, a temporary file .NAME.runbook-XXXXXX in the folder
# its file goes to (created 0600 by mktemp), holding the extracted content, given the recorded owner
# (before the mode: chown clears set-id bits), mode and the archive's modification time. STAGED
# lists them, in the order of entries.tsv; an exit handler removes those still there.
rb_secrets_restore_stage() {
  local path mode uid gid dir tmp
  STAGED=()
  rb_on_exit rb_secrets_restore_unstage
  while IFS=$'\t' read -r path mode uid gid; do
    dir="$(dirname "$TO/$path")"
    mkdir -p "$dir"
    tmp="$(mktemp "$dir/.$(basename "$path").runbook-XXXXXX")"
    STAGED+=("$tmp")
    cat "$WORK/extract/$path" > "$tmp"
    chown "$uid:$gid" "$tmp" 2> "$WORK/chown.err" ||
      rb_fail "cannot give $TO/$path its recorded owner $uid:$gid ($(cat "$WORK/chown.err")); a restore that keeps owners must run as root. Nothing in $TO was replaced"
    chmod "$mode" "$tmp"
    touch -r "$WORK/extract/$path" "$tmp"
  done < "$WORK/entries.tsv"
}

# rb_secrets_restore_place: renames each staged file onto its place (-T: onto that name, never into
# a folder of that name), in the order they were staged.
rb_secrets_restore_place() {
  local path i=0
  while IFS=$'\t' read -r path _; do
    mv -f -T -- "${STAGED[i]}" "$TO/$path"
    i=$((i + 1))
  done < "$WORK/entries.tsv"
  STAGED=()
}

# Exit handler: removes the staged temporary files that were not renamed into place.
rb_secrets_restore_unstage() {
  [ "${#STAGED[@]}" -eq 0 ] || rm -f -- "${STAGED[@]}"
}
