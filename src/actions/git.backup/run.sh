# shellcheck shell=bash
# git.backup run: every bare repository under a folder (Gitea's owner/repo.git, found recursively) as
# a `git bundle --all`: one consistent snapshot of its refs and the objects they need, whatever a
# push or gc does meanwhile (git never exposes a half-written pack). What a bundle does not carry and
# Gitea relies on (hooks/ with their modes, config, description) goes into one tar per repository,
# with numeric owners; the repository's owner (uid:gid) is recorded so a restore run as root gives
# it back. Repositories of another user are read as root (lib/git.sh says how).
# A git error on a repository fails the run, naming it: only a repository for which git reports no
# refs is empty. The run fails too, naming what is missing, when it stored fewer repositories than
# it found or a bundle lacks a ref the repository had when it was bundled.
#
# The backup folder DEST/ID/: bundles/OWNER/REPO.git.bundle (repositories with refs),
# metadata/OWNER/REPO.git.tar (config, description, hooks/ as they are in the repository) and
# manifest.json, written last (git-backup-manifest.jq):
#   files: [{name, bytes, sha256}] every bundle and tar;
#   refs: {REPO: {REF: OID, HEAD: OID}} as each bundle holds them ({} for an empty repository);
#   heads: {REPO: REF} the ref HEAD names;
#   repositories: {REPO: {uid, gid, metadata: "metadata/REPO.tar",
#     entries: [{path, type: file|dir|symlink|other, mode: "755", sha256 (file) | target (symlink)}]}}
#   (absent from backups made before it: they restore without hooks, owners or config).
# Inputs: REPOSITORIES (the folder) TO (where backups go); RB_RUNBOOK RB_STEP name the manifest's
# runbook when run by hand.
rb_git_backup_run() {
  # shellcheck disable=SC2034 # RB_ACTION names the action in the messages of lib/ functions (rb_say)
  local RB_ACTION=git.backup dest repo name
  local -x GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0=safe.directory GIT_CONFIG_VALUE_0='*'
  rb_signing_key_check
  rb_work git-backup
  rb_backup_start
  dest="$TO/$ID"

  rb_git_repositories "$REPOSITORIES" > "$WORK/repositories.txt"
  [ -s "$WORK/repositories.txt" ] || rb_fail "no bare repositories (*.git) under $REPOSITORIES"
  mkdir -p "$WORK/data"
  : > "$WORK/repositories.jsonl"
  while IFS= read -r repo; do
    rb_git_backup_repository "$REPOSITORIES/$repo" "$repo"
  done < "$WORK/repositories.txt"

  # sha256 and size of every bundle and tar, for the manifest.
  (cd "$WORK/data" && find . -type f | sed 's|^\./||' | sort) | while IFS= read -r name; do
    jq -n -c --arg name "$name" --argjson bytes "$(stat -c %s "$WORK/data/$name")" --arg sha256 "$(sha256sum < "$WORK/data/$name" | cut -d ' ' -f 1)" '{$name, $bytes, $sha256}'
  done > "$WORK/files.jsonl"
  rb_git_backup_check_stored

  rclone copy "$WORK/data" "$dest"
  rclone check --fast-list "$WORK/data" "$dest"

  # The manifest goes last: until it exists the folder is an incomplete backup.
  rb_manifest_write git --arg source "$REPOSITORIES" --slurpfile files "$WORK/files.jsonl" --slurpfile repos "$WORK/repositories.jsonl" \
    "$(rb_jq_git_backup_manifest)"
  rb_manifest_upload "$dest"
  echo "backed up $(wc -l < "$WORK/repositories.txt") repositories to $dest"
}

# rb_git_backup_repository PATH REPO: bundles the repository at PATH (when it has refs) into
# data/bundles/REPO.bundle, archives its metadata into data/metadata/REPO.tar and appends its line
# to repositories.jsonl.
rb_git_backup_repository() {
  local path=$1 repo=$2 head refs='{}' owner
  rb_git_read "$path" for-each-ref --format='%(refname)' > "$WORK/source-refs"
  head="$(rb_git_head "$path")"
  if [ -s "$WORK/source-refs" ]; then
    mkdir -p "$(dirname "$WORK/data/bundles/$repo")"
    rb_git_read "$path" bundle create --quiet "$WORK/data/bundles/$repo.bundle" --all
    git bundle list-heads "$WORK/data/bundles/$repo.bundle" > "$WORK/bundle-heads"
    rb_git_backup_check_bundle "$path"
    refs="$(jq -R -n "$(rb_jq_git_bundle_refs)" < "$WORK/bundle-heads")"
  fi
  rb_git_backup_metadata "$path" "$repo"
  owner="$(stat -c '%u %g' "$path")"
  jq -n -c --arg repo "$repo" --arg head "$head" --argjson refs "$refs" --argjson uid "${owner% *}" --argjson gid "${owner#* }" \
    --rawfile entries "$WORK/entries" "$(rb_jq_git_backup_repository)" >> "$WORK/repositories.jsonl"
}

# rb_git_backup_check_bundle PATH: fails, naming them, when the bundle (bundle-heads) lacks refs the
# repository listed before bundling (source-refs) and still has: a ref deleted by a push meanwhile is
# no loss, which is why the repository is listed again only when something is missing.
rb_git_backup_check_bundle() {
  LC_ALL=C sort -o "$WORK/source-refs" "$WORK/source-refs"
  cut -d ' ' -f 2- "$WORK/bundle-heads" | grep -vx HEAD | LC_ALL=C sort > "$WORK/bundle-refs" || true
  LC_ALL=C comm -23 "$WORK/source-refs" "$WORK/bundle-refs" > "$WORK/unbundled"
  [ -s "$WORK/unbundled" ] || return 0
  rb_git_read "$1" for-each-ref --format='%(refname)' | LC_ALL=C sort > "$WORK/source-refs-now"
  LC_ALL=C comm -12 "$WORK/unbundled" "$WORK/source-refs-now" > "$WORK/lost"
  [ ! -s "$WORK/lost" ] || rb_fail "$1: its bundle lacks refs the repository has: $(paste -s -d ' ' "$WORK/lost")"
}

# rb_git_backup_metadata PATH REPO: copies PATH's config, description and hooks/ (modes and owners
# kept) to a staging folder, lists them (rb_git_metadata_entries) into $WORK/entries and tars that
# same copy, with numeric owners, as data/metadata/REPO.tar: the manifest's entries and the tar
# cannot disagree, whatever Gitea rewrites in the repository meanwhile.
rb_git_backup_metadata() {
  local stage="$WORK/stage"
  rm -rf "$stage"
  mkdir -p "$stage" "$(dirname "$WORK/data/metadata/$2")"
  rb_git_metadata_names "$1" > "$WORK/metadata-names"
  while IFS= read -r name; do
    cp -a "$1/$name" "$stage/" || rb_fail "$1: cannot copy its $name"
  done < "$WORK/metadata-names"
  rb_git_metadata_entries "$stage" > "$WORK/entries"
  tar -C "$stage" --numeric-owner -cf "$WORK/data/metadata/$2.tar" -T "$WORK/metadata-names"
  rm -rf "$stage"
}

# rb_git_backup_check_stored: fails, naming what is missing, unless every repository found
# (repositories.txt) has its line in repositories.jsonl and its tar, and every one with refs its
# bundle, among the files about to be uploaded (files.jsonl).
rb_git_backup_check_stored() {
  jq -n -r --rawfile found "$WORK/repositories.txt" --slurpfile files "$WORK/files.jsonl" --slurpfile repos "$WORK/repositories.jsonl" \
    "$(rb_jq_git_backup_missing)" > "$WORK/missing"
  [ ! -s "$WORK/missing" ] || rb_fail "the backup lacks what $REPOSITORIES holds: $(paste -s -d ';' "$WORK/missing")"
}
