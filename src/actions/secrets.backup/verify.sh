# shellcheck shell=bash
# secrets.backup verify: what the run stored, fetched back from TO (no private key is needed, and
# none is on the server): secrets.tar.age has the manifest's size and sha256, starts with age's
# header (age-encryption.org/v1) holding one X25519 stanza for each recipient and no other, and the
# manifest's entries are exactly the listed files and its recipients the listed keys. Whether the
# archive decrypts and its files are whole is what secrets.restore proves, with the private key.
# Inputs: SOURCE FILES RECIPIENTS TO (as for the run).
rb_secrets_backup_verify() {
  # shellcheck disable=SC2034 # RB_ACTION names the action in the messages of lib/ functions (rb_fail)
  local RB_ACTION=secrets.backup id
  rb_work secrets-backup-verify
  id="$(rb_backup_of_run latest)"
  id="$(rb_backup_resolve "$TO" "$id")"
  rb_secrets_fetch "$TO" "$id" "the backup cannot be restored"
  rb_manifest_check_signature "$TO/$id" "$WORK/manifest.json"
  jq -r --argjson files "$(jq -n -c '$ARGS.positional' --args "${FILES[@]}")" \
    --argjson recipients "$(jq -n -c '$ARGS.positional' --args "${RECIPIENTS[@]}")" \
    "$(rb_jq_secrets_backup_checks)[]" "$WORK/manifest.json" > "$WORK/problems"
  if [ -s "$WORK/problems" ]; then
    head -n 20 "$WORK/problems" >&2
    rb_fail "the manifest of $TO/$id does not record the listed files and recipients"
  fi
  rb_secrets_backup_check_header "$TO/$id/secrets.tar.age"
  echo "verified $TO/$id: secrets.tar.age has its manifest's size and sha256 and an age header with one X25519 stanza per recipient (${#RECIPIENTS[@]}); the manifest lists exactly the listed files (${#FILES[@]})"
}

# rb_secrets_backup_check_header NAME: $ARCHIVE (named NAME in messages) starts with the line
# age-encryption.org/v1, then stanzas ("-> TYPE …" and their body lines) up to the MAC line
# ("--- …"): exactly one stanza per recipient, every one X25519. awk stops at the MAC line, so the
# binary payload after it is never read as text.
rb_secrets_backup_check_header() {
  local counts version mac stanzas x25519
  counts="$(LC_ALL=C awk 'NR == 1 { if ($0 != "age-encryption.org/v1") exit; version = 1; next }
    /^-> / { stanzas++; if ($2 == "X25519") x25519++; next }
    /^--- / { mac = 1; exit }
    END { print version + 0, mac + 0, stanzas + 0, x25519 + 0 }' "$ARCHIVE")"
  read -r version mac stanzas x25519 <<< "$counts"
  [ "$version" = 1 ] || rb_fail "$1 does not start with the age header age-encryption.org/v1: it is no age file"
  [ "$mac" = 1 ] || rb_fail "$1 has no complete age header (no MAC line)"
  if [ "$x25519" != "${#RECIPIENTS[@]}" ] || [ "$stanzas" != "$x25519" ]; then
    rb_fail "$1's age header has $x25519 X25519 stanzas ($stanzas stanzas in all); ${#RECIPIENTS[@]} recipients are listed"
  fi
}
