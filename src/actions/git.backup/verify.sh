# shellcheck shell=bash
# git.backup verify: the uploaded bundles and tars are fetched back; their sha256 equals the
# manifest's, each bundle passes `git bundle verify`, a mirror clone of each is `git fsck --full`
# clean and holds exactly the manifest's refs, and each tar holds exactly the manifest's entries.
# Then the source as it is now: the manifest must list repositories, every repository of the source,
# and refs for every repository that has refs (rb_git_backup_check_source says what may be missing).
# Inputs: REPOSITORIES (the folder backed up) TO (where backups go).
rb_git_backup_verify() {
  # shellcheck disable=SC2034 # RB_ACTION names the action in the messages of lib/ functions (rb_say)
  local RB_ACTION=git.backup id repo count
  local -x GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0=safe.directory GIT_CONFIG_VALUE_0='*'
  rb_work git-backup-verify
  id="$(rb_backup_of_run latest)"
  id="$(rb_backup_resolve "$TO" "$id")"
  rclone copy --fast-list "$TO/$id" "$WORK/backup"
  cp "$WORK/backup/manifest.json" "$WORK/manifest.json"
  rb_manifest_check_signature "$TO/$id" "$WORK/manifest.json"
  jq -r '.files[] | "\(.sha256)  \(.name)"' "$WORK/manifest.json" > "$WORK/SHA256SUMS"
  if [ -s "$WORK/SHA256SUMS" ]; then (cd "$WORK/backup" && sha256sum --check --quiet --strict "$WORK/SHA256SUMS"); fi
  jq -r "$(rb_jq_git_backup_checks)" "$WORK/manifest.json" > "$WORK/fields"
  sed -n 's/^R\t//p' "$WORK/fields" > "$WORK/repositories.tsv"
  sed -n 's/^M\t//p' "$WORK/fields" | LC_ALL=C sort > "$WORK/expected-metadata"
  [ -s "$WORK/repositories.tsv" ] || rb_fail "the manifest of $TO/$id lists no repositories: an empty backup"
  : > "$WORK/actual-metadata"
  while IFS=$'\t' read -r repo count; do
    if [ "$count" != 0 ]; then
      git clone --quiet --mirror "$WORK/backup/bundles/$repo.bundle" "$WORK/check/$repo"
      git -C "$WORK/check/$repo" bundle verify --quiet "$WORK/backup/bundles/$repo.bundle"
      git -C "$WORK/check/$repo" fsck --full --no-progress
      rb_git_check_refs "$WORK/check/$repo" "$repo"
    fi
    if [ -f "$WORK/backup/metadata/$repo.tar" ]; then
      mkdir -p "$WORK/metadata/$repo"
      tar -C "$WORK/metadata/$repo" -xpf "$WORK/backup/metadata/$repo.tar" --no-same-owner
      rb_git_metadata_entries "$WORK/metadata/$repo" | REPO=$repo awk '{ print ENVIRON["REPO"] "\t" $0 }' >> "$WORK/actual-metadata"
    fi
  done < "$WORK/repositories.tsv"
  LC_ALL=C sort -o "$WORK/actual-metadata" "$WORK/actual-metadata"
  if ! diff "$WORK/expected-metadata" "$WORK/actual-metadata" > "$WORK/metadata-diff"; then
    head -n 20 "$WORK/metadata-diff" >&2
    rb_fail "the tars of $TO/$id do not hold exactly the manifest's hooks, config and description (< manifest, > tar)"
  fi
  rb_git_backup_check_source "$TO/$id"
  echo "verified $(wc -l < "$WORK/repositories.tsv") repositories in $TO/$id against $REPOSITORIES"
}

# rb_git_backup_check_source BACKUP: fails, naming them, for repositories of REPOSITORIES missing
# from the manifest and for repositories with refs whose manifest records none. The verification
# runs seconds after the run while Gitea keeps serving, so a repository created, or a first push
# made, after the backup started is expected to be missing: the next backup takes it, and failing on
# it would cry wolf. Which is which is told by what git wrote: a repository (or its ref storage,
# refs/ and packed-refs) holding a file last changed before the backup started existed then, and its
# absence means the backup stored less than there was. (`created` is the start truncated to the
# second, hence a second of slack: a change in that second counts as before, failing safe.)
rb_git_backup_check_source() {
  local since repo path refs
  local -A recorded=()
  since=$(($(date -u -d "$(jq -r .created "$WORK/manifest.json")" +%s) + 1))
  while IFS=$'\t' read -r repo refs; do recorded[$repo]=$refs; done < "$WORK/repositories.tsv"
  rb_git_repositories "$REPOSITORIES" > "$WORK/source-repositories"
  : > "$WORK/unrecorded"
  while IFS= read -r repo; do
    path="$REPOSITORIES/$repo"
    if [ -z "${recorded[$repo]:-}" ]; then
      if rb_git_older_than "$since" "$path"; then echo "$repo: in $REPOSITORIES but missing from the manifest" >> "$WORK/unrecorded"; fi
    elif [ "${recorded[$repo]}" = 0 ]; then
      refs="$(rb_git_read "$path" for-each-ref --count=1 --format='%(refname)')"
      if [ -n "$refs" ] && rb_git_older_than "$since" "$path/refs" "$path/packed-refs"; then
        echo "$repo: has refs in $REPOSITORIES from before the backup, but the manifest records none" >> "$WORK/unrecorded"
      fi
    fi
  done < "$WORK/source-repositories"
  if [ -s "$WORK/unrecorded" ]; then
    cat "$WORK/unrecorded" >&2
    rb_fail "$1 lacks what $REPOSITORIES held when it was made"
  fi
}

# rb_git_older_than EPOCH PATH…: whether any file under the PATHs that exist was last changed
# before EPOCH.
rb_git_older_than() {
  local since=$1 path
  local -a existing=()
  shift
  for path in "$@"; do if [ -e "$path" ]; then existing+=("$path"); fi; done
  [ "${#existing[@]}" -gt 0 ] && [ -n "$(find "${existing[@]}" -type f ! -newermt "@$since" -print -quit)" ]
}
