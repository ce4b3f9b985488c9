# shellcheck shell=bash
# secrets.restore verify: decrypts the backup the run restored again (the same checks as the run:
# size and sha256 against the manifest, the key, the archive's members, SHA256SUMS) and compares each
# file in TO with the archive's: a regular file (not a symbolic link), the same sha256, mode and
# numeric owner. Every difference is reported by path (at most 20 shown), then the step fails.
# Inputs: FROM BACKUP KEY_SECRET IDENTITY TO (as for the run; BACKUP is used when the run's `backup`
# output is absent) SIGNERS ALLOW_UNSIGNED.
rb_secrets_restore_verify() {
  # shellcheck disable=SC2034 # RB_ACTION names the action in the messages of lib/ functions (rb_fail)
  local RB_ACTION=secrets.restore id count
  rb_work secrets-restore-verify
  rb_secrets_identity
  id="$(rb_backup_of_run "$BACKUP")"
  id="$(rb_backup_pick "$FROM" "$id" "$WORK/manifest.json")"
  rb_secrets_fetch "$FROM" "$id" "the restore cannot be verified"
  rb_secrets_open "$id" "the restore cannot be verified"
  rb_secrets_entries > "$WORK/entries.tsv"
  rb_secrets_restore_differences > "$WORK/differences"
  count="$(wc -l < "$WORK/differences")"
  if [ "$count" != 0 ]; then
    rb_say "$TO differs from backup $id in $count places:" >&2
    head -n 20 "$WORK/differences" >&2
    if [ "$count" -gt 20 ]; then echo "and $((count - 20)) more" >&2; fi
    exit 1
  fi
  echo "verified $(wc -l < "$WORK/entries.tsv") secret files in $TO: content (sha256), mode and owner equal backup $id's"
}

# rb_secrets_restore_differences: one line per difference between TO and the archive's files
# (entries.tsv, whose modes and owners rb_secrets_open proved equal to the archive's; SHA256SUMS).
rb_secrets_restore_differences() {
  local path mode uid gid target line got_mode got_owner got_sha256
  local -A sums=()
  while IFS= read -r line; do sums[${line:66}]=${line:0:64}; done < "$WORK/extract/SHA256SUMS"
  while IFS=$'\t' read -r path mode uid gid; do
    target="$TO/$path"
    if [ -L "$target" ]; then
      echo "$target: a symbolic link, the backup has a regular file"
      continue
    elif [ ! -e "$target" ]; then
      echo "$target: missing"
      continue
    elif [ ! -f "$target" ]; then
      echo "$target: not a regular file"
      continue
    fi
    read -r got_mode got_owner < <(stat -c '%a %u:%g' "$target")
    got_mode="$(printf '%04o' "$((8#$got_mode))")"
    got_sha256="$(sha256sum < "$target")"
    [ "${got_sha256%% *}" = "${sums[$path]:-}" ] || echo "$target: content differs from the backup's (sha256)"
    [ "$got_mode" = "$mode" ] || echo "$target: mode $got_mode, backup $mode"
    [ "$got_owner" = "$uid:$gid" ] || echo "$target: owner $got_owner, backup $uid:$gid"
  done < "$WORK/entries.tsv"
}
