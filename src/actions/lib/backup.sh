# shellcheck shell=bash
# Finding, fetching and recording backups the same way in every action (docs/design.md §6): each
# backup is a folder DEST/YYYY-MM-DDTHHMMSSZ/ named for its start in UTC, and it is complete once
# its manifest.json, written last, exists. Which backups are trusted is decided in one place,
# src/backup/trust.ts, which the shell reaches through `runbook backups --pick`.

# rb_backup_pick LOCATION BACKUP MANIFEST: the backup a restore uses, by the one definition of a
# trusted complete backup (src/backup/trust.ts, through `runbook backups --pick`): BACKUP when it is
# trusted, or for `latest` the newest trusted one; newer folders passed over are named on stderr.
# Prints its id and writes into MANIFEST the exact manifest bytes that were checked: the restore reads
# that file, never a second download. Whose signatures count: SIGNERS (OpenSSH public key lines) or
# ALLOW_UNSIGNED=true; with neither it fails. RUNBOOK_BIN is this tool (exec exports it); by hand,
# `runbook` on PATH.
rb_backup_pick() {
  # Explicit: callers run it in $(…), where bash does not apply set -e.
  rb_backup_trust_args "$3.signers" || return 1
  "${RUNBOOK_BIN:-runbook}" backups "$1" --pick "$2" --manifest-to "$3" "${TRUST_ARGS[@]}"
}

# rb_backup_trust_args FILE: sets TRUST_ARGS to the `runbook backups` flags that say whose signatures
# count: --signers FILE (SIGNERS, public key lines, written there) and --allow-unsigned
# (ALLOW_UNSIGNED=true). Fails, saying what to give, with neither.
rb_backup_trust_args() {
  TRUST_ARGS=()
  if [ -n "${SIGNERS:-}" ]; then
    printf '%s\n' "$SIGNERS" > "$1"
    TRUST_ARGS+=(--signers "$1")
  fi
  if [ "${ALLOW_UNSIGNED:-false}" = true ]; then TRUST_ARGS+=(--allow-unsigned); fi
  if [ "${#TRUST_ARGS[@]}" -eq 0 ]; then
    rb_say "nothing to check backup signatures with: give the step the input signers (the backup signing public key lines, e.g. \${{ vars.backup_public_key }}), or allow_unsigned: true to trust backups nobody can prove the server wrote" >&2
    return 1
  fi
}

# rb_backup_resolve LOCATION BACKUP: for a backup's own verification, BACKUP (the run's id) or for
# `latest` the newest complete backup, by the same definition as rb_backup_pick with signatures left
# to the signing side; its messages are shown only when it fails.
rb_backup_resolve() {
  local err id
  err="$(mktemp)"
  if ! id="$("${RUNBOOK_BIN:-runbook}" backups "$1" --pick "$2" --allow-unsigned 2> "$err")"; then
    cat "$err" >&2
    rm -f "$err"
    return 1
  fi
  rm -f "$err"
  printf '%s\n' "$id"
}

# rb_backup_of_run FALLBACK: the backup this step's run used (its `backup` output), else FALLBACK.
rb_backup_of_run() {
  local used=
  if [ -f "${RUNBOOK_OUTPUT:-}" ]; then
    used="$(sed -n 's/^backup=//p' "$RUNBOOK_OUTPUT" | tail -n 1)"
  fi
  printf '%s\n' "${used:-$1}"
}

# rb_backup_manifest LOCATION BACKUP FILE: downloads the backup's manifest.json into FILE.
rb_backup_manifest() {
  if ! rclone cat "$1/$2/manifest.json" > "$3" 2> "$3.err" || [ ! -s "$3" ]; then
    cat "$3.err" >&2
    rb_say "backup $1/$2 not found or incomplete (no manifest.json)" >&2
    return 1
  fi
}

# rb_backup_fetch LOCATION BACKUP FOLDER MANIFEST: downloads into FOLDER, with one rclone start, the
# regular data files MANIFEST lists (symbolic links are the caller's: rclone 1.60 filters skip them),
# and nothing else: an object the manifest does not list is never downloaded. MANIFEST's names are
# safe (rb_backup_pick checked them). Nothing downloaded is trusted yet: the caller checks each file.
# Its filter and errors go to $WORK (rb_work), never beside FOLDER.
rb_backup_fetch() {
  # An rclone filter per file: anchored, its pattern characters escaped, so it matches that name only.
  jq -r '.files[] | select(.type != "symlink") | "/" + (.name | gsub("(?<c>[\\\\*?\\[\\]{}])"; "\\\(.c)"))' "$4" > "$WORK/fetch.include"
  # --ignore-checksum: rclone's own md5 check would stop at a damaged object with a transfer error
  # (and retry it), where the caller's sha256 check against the manifest names the file and refuses.
  if ! rclone copy --fast-list --ignore-checksum --include-from "$WORK/fetch.include" "$1/$2" "$3" 2> "$WORK/fetch.err"; then
    cat "$WORK/fetch.err" >&2
    rb_say "cannot download $1/$2" >&2
    return 1
  fi
  mkdir -p "$3"
}

# rb_backup_start: sets NOW (seconds since the epoch, UTC) and ID (the new backup's folder name),
# and publishes ID as the step's `backup` output.
rb_backup_start() {
  NOW="$(date -u +%s)"
  ID="$(date -u -d "@$NOW" +%Y-%m-%dT%H%M%SZ)"
  rb_output backup "$ID"
}

# rb_manifest_write KIND [JQ_ARGS…] EXTRA: writes $WORK/manifest.json for backup $ID started at
# $NOW: format, kind, id, created and the runbook's identity (exec exports RUNBOOK_*; by hand,
# RB_RUNBOOK and RB_STEP stand in), merged with the jq object EXTRA built from JQ_ARGS.
rb_manifest_write() {
  local kind=$1
  shift
  local extra=${*: -1}
  jq -n \
    --arg kind "$kind" --arg id "$ID" --arg created "$(date -u -d "@$NOW" +%Y-%m-%dT%H:%M:%SZ)" \
    --arg runbook "${RUNBOOK_NAME:-${RB_RUNBOOK:-unknown}}" --arg commit "${RUNBOOK_COMMIT:-}" \
    --arg run_id "${RUNBOOK_RUN_ID:-}" --arg step "${RUNBOOK_STEP:-${RB_STEP:-unknown}}" \
    "${@:1:$#-1}" \
    '{format: "runbook-backup/1", kind: $kind, id: $id, created: $created, runbook: {name: $runbook, commit: $commit, run_id: $run_id, step: $step}} + '"$extra" \
    > "$WORK/manifest.json"
}

# Signing (sign_with): whoever can write the bucket can rewrite a backup and its manifest's
# checksums together, so the manifest is signed with an ed25519 key that stays on the server:
# manifest.json.sig is `ssh-keygen -Y sign -n runbook-backup` over the manifest's exact bytes,
# uploaded before manifest.json (which stays the completeness mark). Restores and `runbook backups`
# check it against the trusted public keys.

# rb_signing_key_check: when SIGN_WITH names a key, fails (before anything is stored) unless it is a
# readable OpenSSH ed25519 private key without a passphrase (a job at 2 a.m. cannot type one).
rb_signing_key_check() {
  local public
  [ -n "${SIGN_WITH:-}" ] || return 0
  if [ ! -f "$SIGN_WITH" ] || [ ! -r "$SIGN_WITH" ]; then
    rb_fail "cannot read the signing key $SIGN_WITH (sign_with): no such file, or not readable by $(id -un). Nothing was stored."
  fi
  if ! public="$(ssh-keygen -y -P '' -f "$SIGN_WITH" 2>&1 < /dev/null)"; then
    case "$public" in
      *passphrase*) rb_fail "the signing key $SIGN_WITH (sign_with) is protected by a passphrase, which an unattended backup cannot give: make one without (ssh-keygen -t ed25519 -N '' -f KEY). Nothing was stored." ;;
      *) rb_fail "$SIGN_WITH (sign_with) is not an OpenSSH private key ($public): make one with ssh-keygen -t ed25519 -N '' -f KEY. Nothing was stored." ;;
    esac
  fi
  case "$public" in
    'ssh-ed25519 '*) ;;
    *) rb_fail "the signing key $SIGN_WITH (sign_with) is not an ed25519 key (${public%% *}): make one with ssh-keygen -t ed25519 -N '' -f KEY. Nothing was stored." ;;
  esac
}

# rb_signature_upload FILE SIG MESSAGE: with SIGN_WITH, signs the local FILE's exact bytes
# (`ssh-keygen -Y sign -n runbook-backup`, into FILE.sig) and uploads the signature to SIG (an rclone
# path); fails with MESSAGE when the key cannot sign. Without SIGN_WITH, does nothing.
rb_signature_upload() {
  [ -n "${SIGN_WITH:-}" ] || return 0
  ssh-keygen -q -Y sign -f "$SIGN_WITH" -n runbook-backup < "$1" > "$1.sig" || rb_fail "$3"
  rclone copyto --checksum "$1.sig" "$2"
}

# rb_manifest_upload DEST: uploads $WORK/manifest.json to DEST/manifest.json, last; with SIGN_WITH,
# its signature DEST/manifest.json.sig first, so a complete backup is never unsigned.
rb_manifest_upload() {
  rb_signature_upload "$WORK/manifest.json" "$1/manifest.json.sig" \
    "cannot sign the manifest with $SIGN_WITH; the backup $1 stays incomplete (no manifest.json)"
  rclone copyto --checksum "$WORK/manifest.json" "$1/manifest.json"
}

# rb_signature_check SIG FILE: with SIGN_WITH, fails unless the stored signature SIG (an rclone
# path) is a signature of the local FILE by SIGN_WITH's key, in the namespace runbook-backup.
rb_signature_check() {
  local public
  [ -n "${SIGN_WITH:-}" ] || return 0
  public="$(ssh-keygen -y -P '' -f "$SIGN_WITH" < /dev/null)" || rb_fail "cannot read the public half of the signing key $SIGN_WITH"
  printf 'runbook-backup namespaces="runbook-backup" %s\n' "$(cut -d ' ' -f 1,2 <<< "$public")" > "$WORK/allowed_signers"
  if ! rclone cat "$1" > "$WORK/stored.sig" 2> /dev/null || [ ! -s "$WORK/stored.sig" ]; then
    rb_fail "$1 is missing, though sign_with is set"
  fi
  if ! ssh-keygen -Y verify -f "$WORK/allowed_signers" -I runbook-backup -n runbook-backup -s "$WORK/stored.sig" < "$2" > "$WORK/signature.out" 2>&1; then
    rb_fail "$1 is not a signature of what it signs by the key of $SIGN_WITH: $(tr '\n' ' ' < "$WORK/signature.out")"
  fi
}

# rb_manifest_check_signature DEST MANIFEST: with SIGN_WITH, fails unless DEST/manifest.json.sig, as
# stored, is a signature of the file MANIFEST (the stored manifest, read back) by SIGN_WITH's key.
rb_manifest_check_signature() {
  [ -n "${SIGN_WITH:-}" ] || return 0
  rb_signature_check "$1/manifest.json.sig" "$2"
  echo "verified $1/manifest.json: signature by $(ssh-keygen -l -f "$SIGN_WITH" | cut -d ' ' -f 2)"
}
