# shellcheck shell=bash
# git.restore run: recreates the bare repositories of a git backup under TO (owner/repo.git), each a
# plain bare repository again: mirror-cloned from its bundle, the clone's remote removed, HEAD set to
# the branch it named. Where the manifest records them (git.backup/run.sh documents its fields), the
# repository also gets back its hooks/ (content and modes: git's sample hooks do not stay), config
# and description from its tar, and its owner uid:gid on everything in it, and on the folders above
# it that the restore creates, so Gitea (running as that user) can write there. Older backups,
# without them, restore as before: git's own hooks and config, owned by whoever runs the restore
# (then run `gitea admin regenerate hooks` and chown).
# A repository already there is left alone when its refs are the backup's (a re-run after an
# interruption) and is an error otherwise: nothing is overwritten. Each repository is built as
# REPO.partial and renamed once complete.
# Inputs: FROM (the backups' location) TO (the folder of repositories) BACKUP (`latest` or an id)
# SIGNERS ALLOW_UNSIGNED (whose backups are trusted: rb_backup_pick).
rb_git_restore_run() {
  # shellcheck disable=SC2034 # RB_ACTION names the action in the messages of lib/ functions (rb_say)
  local RB_ACTION=git.restore id repo head uid gid metadata
  local -x GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0=safe.directory GIT_CONFIG_VALUE_0='*'
  local -A owners=() archives=()
  rb_work git-restore
  # The trusted backup and the exact manifest that was checked; then only the files it lists.
  id="$(rb_backup_pick "$FROM" "$BACKUP" "$WORK/manifest.json")"
  rb_output backup "$id"
  rb_backup_fetch "$FROM" "$id" "$WORK/backup" "$WORK/manifest.json"
  jq -r "$(rb_jq_git_restore_fields)" "$WORK/manifest.json" > "$WORK/fields"
  sed -n 's/^S //p' "$WORK/fields" > "$WORK/SHA256SUMS"
  sed -n 's/^R //p' "$WORK/fields" > "$WORK/repositories.tsv"
  while IFS=$'\t' read -r repo uid gid metadata; do
    owners[$repo]="$uid:$gid"
    archives[$repo]=$metadata
  done < <(sed -n 's/^O //p' "$WORK/fields")
  if [ -s "$WORK/SHA256SUMS" ]; then (cd "$WORK/backup" && sha256sum --check --quiet --strict "$WORK/SHA256SUMS"); fi
  cut -f 1 "$WORK/repositories.tsv" > "$WORK/repositories.txt"

  # Fail before touching anything when a repository exists with other refs.
  while IFS= read -r repo; do
    if [ -e "$TO/$repo" ] && ! (rb_git_check_refs "$TO/$repo" "$repo") > /dev/null 2>&1; then
      echo "$TO/$repo already exists with other refs: not overwriting it" >&2
      exit 1
    fi
  done < "$WORK/repositories.txt"

  while IFS=$'\t' read -r repo head; do
    [ ! -e "$TO/$repo" ] || continue
    rb_git_restore_parents "$TO/$repo" "${owners[$repo]:-}"
    rm -rf "$TO/$repo.partial" # left by an interrupted run
    if [ -f "$WORK/backup/bundles/$repo.bundle" ]; then
      git clone --quiet --mirror "$WORK/backup/bundles/$repo.bundle" "$TO/$repo.partial"
      git -C "$TO/$repo.partial" config --remove-section remote.origin # a plain bare repository, not a mirror of the bundle
    else
      git init --quiet --bare "$TO/$repo.partial"
    fi
    if [ -n "${archives[$repo]:-}" ]; then rb_git_restore_metadata "$TO/$repo.partial" "$WORK/backup/${archives[$repo]}"; fi
    if [ -n "$head" ]; then git -C "$TO/$repo.partial" symbolic-ref HEAD "$head"; fi
    if [ -n "${owners[$repo]:-}" ]; then
      chown -R "${owners[$repo]}" "$TO/$repo.partial" || rb_fail "$TO/$repo: cannot give it its owner ${owners[$repo]} (restore as root)"
    fi
    mv "$TO/$repo.partial" "$TO/$repo"
  done < "$WORK/repositories.tsv"
  echo "restored $(wc -l < "$WORK/repositories.txt") repositories of $id into $TO"
}

# rb_git_restore_metadata REPO_PATH TAR: replaces the fresh repository's hooks/, description and
# config with the backup's. git's sample hooks and description go first: the tar holds exactly what
# the source had, so anything left of git's template would be something the source did not have.
rb_git_restore_metadata() {
  rm -rf "$1/hooks" "$1/description"
  tar -C "$1" -xpf "$2" --no-same-owner
}

# rb_git_restore_parents REPO_PATH [UID:GID]: creates the folders above REPO_PATH that are missing,
# owned by UID:GID when given: Gitea, running as the repositories' owner, creates repositories in
# them (a new one in owner/), which it cannot in a folder root made.
rb_git_restore_parents() {
  local dir
  local -a missing=()
  dir="$(dirname "$1")"
  while [ ! -e "$dir" ]; do
    missing+=("$dir")
    dir="$(dirname "$dir")"
  done
  [ "${#missing[@]}" -gt 0 ] || return 0
  mkdir -p "$(dirname "$1")"
  if [ -n "${2:-}" ]; then chown "$2" "${missing[@]}" || rb_fail "cannot give ${missing[*]} the owner $2 (restore as root)"; fi
}
