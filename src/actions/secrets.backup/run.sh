# shellcheck shell=bash
# secrets.backup run: the secret files of a server (a compose .env with database passwords,
# Supabase's JWT secret) as one archive encrypted with age on the server, to public keys only: the
# private key that decrypts it is kept off the server. In a new backup folder TO/YYYY-MM-DDTHHMMSSZ/
# it uploads secrets.tar.age, then manifest.json last (lib/secrets.sh describes both).
#
# How the plaintext is handled: tar reads each listed file once, into $WORK/secrets.tar (umask 077,
# $WORK is 0700 and removed on exit); its own listing gives the manifest's entries (mode, numeric
# owner, size) and a copy extracted from it the SHA256SUMS member, so entries, checksums and content
# are one snapshot even if a file changes meanwhile (tar also fails on a file that changes while it
# reads it). That tar is piped into `age -r … -r …` and removed; only ciphertext leaves $WORK. The
# manifest holds no hash of any plaintext: a secret's hash would let anyone with bucket access test
# guesses of it.
# Refused before anything is stored: a listed path that is absolute, holds '..', '.' or an empty
# part, a control character or backslash, or is SHA256SUMS; a file that is missing, not a regular
# file (a symbolic link is named as such) or cannot be read; a recipient that is no age public key.
# Inputs: SOURCE (a folder) FILES (a bash array of paths relative to it) RECIPIENTS (a bash array of
# age public keys, age1…) TO (an rclone destination or a local folder); RB_RUNBOOK RB_STEP name the
# manifest's runbook when run by hand.
rb_secrets_backup_run() {
  # shellcheck disable=SC2034 # RB_ACTION names the action in the messages of lib/ functions (rb_fail)
  local RB_ACTION=secrets.backup dest recipient sha256 bytes
  local -a keys=()
  rb_signing_key_check
  rb_work secrets-backup
  rb_secrets_backup_check_inputs
  rb_secrets_backup_archive
  for recipient in "${RECIPIENTS[@]}"; do keys+=(-r "$recipient"); done
  (umask 077 && age --encrypt "${keys[@]}" -o "$WORK/secrets.tar.age" < "$WORK/secrets.tar")
  rm -f "$WORK/secrets.tar"
  sha256="$(sha256sum < "$WORK/secrets.tar.age")"
  sha256="${sha256%% *}"
  bytes="$(stat -c %s "$WORK/secrets.tar.age")"

  rb_backup_start
  dest="$TO/$ID"
  rclone copyto "$WORK/secrets.tar.age" "$dest/secrets.tar.age"
  # The manifest goes last: until it exists the folder is an incomplete backup.
  rb_manifest_write secrets --arg source "$SOURCE" --arg sha256 "$sha256" --argjson bytes "$bytes" \
    --slurpfile members "$WORK/members.json" --argjson recipients "$(jq -n -c '$ARGS.positional' --args "${RECIPIENTS[@]}")" \
    "$(rb_jq_secrets_backup_manifest)"
  rb_manifest_upload "$dest"
  jq -r --arg dest "$dest" '"backed up \(.entries | length) secret files of \(.source.path) (\(.entries | map(.path) | join(", "))) to \($dest)/secrets.tar.age (\(.files[0].bytes) bytes), encrypted to \(.recipients | length) age recipient\(if (.recipients | length) == 1 then "" else "s" end)"' "$WORK/manifest.json"
}

# rb_secrets_backup_check_inputs: fails, storing nothing, unless FILES lists at least one path, each
# once and each a safe path (path_problem of secrets-archive.jq) of a readable regular file under
# SOURCE, and RECIPIENTS lists at least one age public key.
rb_secrets_backup_check_inputs() {
  local path recipient
  [ "${#FILES[@]}" -gt 0 ] || rb_fail "no files are listed; nothing was stored"
  [ "${#RECIPIENTS[@]}" -gt 0 ] || rb_fail "no recipients (age public keys) are listed; nothing was stored"
  for recipient in "${RECIPIENTS[@]}"; do
    [[ $recipient =~ ^age1[023456789ac-hj-np-z]{58}$ ]] ||
      rb_fail "recipient '$recipient' is not an age public key (age1…, as age-keygen -y prints it); nothing was stored"
  done
  jq -n -r "$(rb_jq_secrets_archive)"' $ARGS.positional
    | (.[] | . as $p | path_problem // empty | "\($p | tojson): \(.)"), (group_by(.)[] | select(length > 1) | "\(.[0] | tojson): listed twice")' \
    --args "${FILES[@]}" > "$WORK/problems"
  if [ -s "$WORK/problems" ]; then
    cat "$WORK/problems" >&2
    rb_fail "files must be listed once each, as paths inside $SOURCE; nothing was stored"
  fi
  [ -d "$SOURCE" ] || rb_fail "the source $SOURCE is no folder (missing, or not mounted); nothing was stored"
  for path in "${FILES[@]}"; do
    if [ -L "$SOURCE/$path" ]; then
      rb_fail "$SOURCE/$path is a symbolic link, not a regular file (list the file it points to); nothing was stored"
    elif [ ! -e "$SOURCE/$path" ]; then
      rb_fail "$SOURCE/$path is missing; nothing was stored"
    elif [ ! -f "$SOURCE/$path" ]; then
      rb_fail "$SOURCE/$path is not a regular file; nothing was stored"
    elif ! { : < "$SOURCE/$path"; } 2> /dev/null; then
      rb_fail "$SOURCE/$path cannot be read; nothing was stored"
    fi
  done
}

# rb_secrets_backup_archive: tars FILES from SOURCE into $WORK/secrets.tar (numeric owners, modes as
# they are), writes its members (members() of secrets-archive.jq) into $WORK/members.json, fails
# unless they are exactly FILES, each a regular file, and appends SHA256SUMS: the sha256 of each
# member, taken from a copy extracted from the archive itself and removed at once.
rb_secrets_backup_archive() {
  printf '%s\0' "${FILES[@]}" > "$WORK/files.list"
  if ! (umask 077 && tar --create --format=posix --numeric-owner --no-recursion --null --verbatim-files-from \
    -C "$SOURCE" -T "$WORK/files.list" -f "$WORK/secrets.tar") 2> "$WORK/tar.err"; then
    head -n 20 "$WORK/tar.err" >&2
    rb_fail "cannot archive the files under $SOURCE (one cannot be read, or changed while it was read); nothing was stored"
  fi
  rb_secrets_list "$WORK/secrets.tar" || rb_fail "cannot list the archive just made: $(head -c 500 "$WORK/tar.err"); nothing was stored"
  jq -n -c --rawfile verbose "$WORK/listing" --rawfile names "$WORK/names" "$(rb_jq_secrets_archive)"' members($verbose; $names)' > "$WORK/members.json"
  jq -r '(.[] | select(.type != "file") | "\(.path): a \(.type), not a regular file"),
    (if (map(.path) | sort) != ($ARGS.positional | sort) then "the archive holds \(map(.path) | sort | join(", ")), not the listed files" else empty end)' \
    "$WORK/members.json" --args "${FILES[@]}" > "$WORK/problems"
  if [ -s "$WORK/problems" ]; then
    cat "$WORK/problems" >&2
    rb_fail "the files under $SOURCE changed while they were archived; nothing was stored"
  fi
  mkdir "$WORK/extract" "$WORK/sums"
  (umask 077 && tar --extract --no-same-owner --no-same-permissions -f "$WORK/secrets.tar" -C "$WORK/extract")
  (cd "$WORK/extract" && sha256sum -- "${FILES[@]}") > "$WORK/sums/SHA256SUMS"
  rm -rf "$WORK/extract"
  chmod 0600 "$WORK/sums/SHA256SUMS"
  tar --append --format=posix --numeric-owner -f "$WORK/secrets.tar" -C "$WORK/sums" SHA256SUMS
}
