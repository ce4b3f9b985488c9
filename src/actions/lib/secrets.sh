# shellcheck shell=bash
# What secrets.backup and secrets.restore share. A secrets backup is a folder DEST/ID/ holding
# secrets.tar.age and manifest.json (written last). secrets.tar.age is a tar (numeric owners, modes
# kept) of the secret files, each under its path relative to the source, plus a member SHA256SUMS
# holding their sha256 (`sha256sum` lines), the whole encrypted with age to the recipients' public
# keys. The manifest records, besides the fields every backup has, `entries` (each file's path, mode,
# uid, gid and bytes: never a hash of its content, which stays inside the archive) and `recipients`.
#
# Nothing read from the backup is trusted before it is checked: the stored file's size and sha256
# against the manifest before age reads it (rb_secrets_fetch); the archive's members against the
# manifest's entries, each a regular file at a path inside the folder, before tar extracts anything;
# every extracted file against SHA256SUMS (rb_secrets_open). Anyone holding a public key can encrypt
# to it, so a bucket's writer can make an archive and a manifest that agree: that is why the member
# checks stand on their own. Plaintext is only ever written under $WORK (mode 0700, removed on
# exit), with umask 077.

# rb_secrets_fetch LOCATION ID CONSEQUENCE: downloads the files backup ID's manifest lists into
# $WORK/backup, and proves that it is a secrets backup whose one data file, secrets.tar.age, has
# exactly the manifest's size and sha256; sets ARCHIVE to that file. The manifest is
# $WORK/manifest.json when a restore put the trusted one there (rb_backup_pick), else downloaded.
# Fails, the message ending with CONSEQUENCE, otherwise.
rb_secrets_fetch() {
  local kind count name sha256 bytes got_sha256 got_bytes
  [ -s "$WORK/manifest.json" ] || rb_backup_manifest "$1" "$2" "$WORK/manifest.json"
  rb_backup_fetch "$1" "$2" "$WORK/backup" "$WORK/manifest.json"
  jq -r '(.kind, (.files | length), (.files[0] | .name, .sha256, .bytes)) | tostring | gsub("[\n\r]"; " ")' "$WORK/manifest.json" > "$WORK/fields" ||
    rb_fail "the manifest of $1/$2 is no secrets manifest (it does not parse, or lacks files); $3"
  { read -r kind; read -r count; read -r name; read -r sha256; read -r bytes; } < "$WORK/fields"
  [ "$kind" = secrets ] || rb_fail "$1/$2 is not a secrets backup (its manifest's kind is $kind); $3"
  if [ "$count" != 1 ] || [ "$name" != secrets.tar.age ]; then
    rb_fail "the manifest of $1/$2 does not list exactly one data file, secrets.tar.age; $3"
  fi
  ARCHIVE="$WORK/backup/secrets.tar.age"
  [ -f "$ARCHIVE" ] || rb_fail "$1/$2 has no secrets.tar.age, which its manifest lists; $3"
  got_sha256="$(sha256sum < "$ARCHIVE")"
  got_sha256="${got_sha256%% *}"
  got_bytes="$(stat -c %s "$ARCHIVE")"
  if [ "$got_sha256" != "$sha256" ] || [ "$got_bytes" != "$bytes" ]; then
    rb_fail "$1/$2/secrets.tar.age is $got_bytes bytes, sha256 $got_sha256; its manifest says $bytes bytes, sha256 $sha256 (damaged or altered; not decrypted); $3"
  fi
}

# rb_secrets_identity: writes IDENTITY (the value of the secret that KEY_SECRET names, put there by
# the step's text) into $WORK/identity, mode 0600, with printf, a builtin, so it is on no command
# line; then unsets IDENTITY, so no command started later inherits it. Fails, never printing the
# value, when it holds no age identity.
rb_secrets_identity() {
  [ -n "${IDENTITY:-}" ] || rb_fail "the secret $KEY_SECRET is empty: it must hold an age identity (AGE-SECRET-KEY-1…)"
  (
    umask 077
    printf '%s\n' "$IDENTITY" > "$WORK/identity"
  )
  unset -v IDENTITY
  grep -q '^AGE-SECRET-KEY-1' "$WORK/identity" ||
    rb_fail "the secret $KEY_SECRET holds no age identity (a line AGE-SECRET-KEY-1…, as age-keygen writes it)"
}

# rb_secrets_list TAR: writes TAR's listings for members() of secrets-archive.jq into $WORK/listing
# (`tar -tv --numeric-owner`) and $WORK/names (`tar -t`), names as stored (--absolute-names: a
# leading / or ../ is shown, not stripped) and one member a line (--quoting-style=escape).
rb_secrets_list() {
  tar --list --verbose --numeric-owner --absolute-names --quoting-style=escape -f "$1" > "$WORK/listing" 2> "$WORK/tar.err" &&
    tar --list --absolute-names --quoting-style=escape -f "$1" > "$WORK/names" 2>> "$WORK/tar.err"
}

# rb_secrets_open ID CONSEQUENCE: decrypts $ARCHIVE (proven by rb_secrets_fetch) with $WORK/identity
# into $WORK/secrets.tar; checks its members against the manifest's entries (archive_problems of
# secrets-archive.jq) before extracting anything; extracts it into $WORK/extract (owned by whoever
# runs this, mode 0600) and checks every file against SHA256SUMS, which must list exactly the entries.
# Fails, the message ending with CONSEQUENCE, at the first check that does not hold.
rb_secrets_open() {
  local id=$1 consequence=$2
  if ! (umask 077 && age --decrypt -i "$WORK/identity" -o "$WORK/secrets.tar" "$ARCHIVE") 2> "$WORK/age.err"; then
    rb_fail "the key in $KEY_SECRET does not decrypt backup $id: $(rb_secrets_age_error); $consequence"
  fi
  rb_secrets_list "$WORK/secrets.tar" || rb_fail "backup $id decrypts to no readable tar archive: $(head -c 500 "$WORK/tar.err"); $consequence"
  jq -r --rawfile verbose "$WORK/listing" --rawfile names "$WORK/names" \
    "$(rb_jq_secrets_archive)"' archive_problems(members($verbose; $names))[]' "$WORK/manifest.json" > "$WORK/problems"
  if [ -s "$WORK/problems" ]; then
    head -n 20 "$WORK/problems" >&2
    rb_fail "the archive of backup $id does not hold exactly its manifest's entries as regular files inside the folder; nothing was extracted, and $consequence"
  fi
  mkdir "$WORK/extract"
  (umask 077 && tar --extract --no-same-owner --no-same-permissions -f "$WORK/secrets.tar" -C "$WORK/extract") 2> "$WORK/tar.err" ||
    rb_fail "cannot extract backup $id: $(head -c 500 "$WORK/tar.err"); $consequence"
  jq -r --rawfile sums "$WORK/extract/SHA256SUMS" "$(rb_jq_secrets_archive)"' sums_problems($sums)[]' "$WORK/manifest.json" > "$WORK/problems"
  if [ -s "$WORK/problems" ]; then
    head -n 20 "$WORK/problems" >&2
    rb_fail "the SHA256SUMS of backup $id does not list exactly its manifest's entries; $consequence"
  fi
  if ! (cd "$WORK/extract" && sha256sum --check --strict --quiet SHA256SUMS) > "$WORK/sums.log" 2>&1; then
    head -n 20 "$WORK/sums.log" >&2
    rb_fail "files of backup $id differ from the checksums taken when it was made; $consequence"
  fi
}

# rb_secrets_age_error: age's message ($WORK/age.err) on one line, without its "report unexpected
# errors" advice, and with anything shaped like an identity cut short.
rb_secrets_age_error() {
  grep -v 'report unexpected or unhelpful errors' "$WORK/age.err" | sed -E 's/AGE-SECRET-KEY-1[0-9A-Za-z]*/AGE-SECRET-KEY-1…/g' | paste -s -d ' ' || true
}

# rb_secrets_entries: the manifest's entries, sorted by path, as "PATH<TAB>MODE<TAB>UID<TAB>GID" lines
# (rb_secrets_open has proven every path safe and every field equal to the archive's).
rb_secrets_entries() {
  jq -r '.entries | sort_by(.path)[] | [.path, .mode, .uid, .gid] | @tsv' "$WORK/manifest.json"
}
