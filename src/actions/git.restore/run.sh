# shellcheck shell=bash
# git.restore run: recreates the bare repositories of a git backup under TO (owner/repo.git), each a
# plain bare repository again: mirror-cloned from its bundle, the clone's remote removed, HEAD set to
# the branch it named. A repository already there is left alone when its refs are the backup's (a
# re-run after an interruption) and is an error otherwise: nothing is overwritten.
# Gitea keeps hooks in each repository: run `gitea admin regenerate hooks` after a restore.
# Inputs: FROM (the backups' location) TO (the folder of repositories) BACKUP (`latest` or an id).
rb_git_restore_run() {
  # shellcheck disable=SC2034 # RB_ACTION names the action in the messages of lib/ functions (rb_say)
  local RB_ACTION=git.restore id repo head
  rb_work git-restore
  id="$(rb_backup_resolve "$FROM" "$BACKUP")"
  rb_output backup "$id"
  rclone copy --fast-list "$FROM/$id" "$WORK/backup"
  [ -f "$WORK/backup/manifest.json" ] || {
    echo "$FROM/$id has no manifest.json: not a complete backup" >&2
    exit 1
  }
  cp "$WORK/backup/manifest.json" "$WORK/manifest.json"
  jq -r "$(rb_jq_git_restore_fields)" "$WORK/manifest.json" > "$WORK/fields"
  sed -n 's/^S //p' "$WORK/fields" > "$WORK/SHA256SUMS"
  sed -n 's/^R //p' "$WORK/fields" > "$WORK/repositories.tsv"
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
    mkdir -p "$(dirname "$TO/$repo")"
    if [ -f "$WORK/backup/bundles/$repo.bundle" ]; then
      git clone --quiet --mirror "$WORK/backup/bundles/$repo.bundle" "$TO/$repo.partial"
      git -C "$TO/$repo.partial" config --remove-section remote.origin # a plain bare repository, not a mirror of the bundle
    else
      git init --quiet --bare "$TO/$repo.partial"
    fi
    if [ -n "$head" ]; then git -C "$TO/$repo.partial" symbolic-ref HEAD "$head"; fi
    mv "$TO/$repo.partial" "$TO/$repo"
  done < "$WORK/repositories.tsv"
  echo "restored $(wc -l < "$WORK/repositories.txt") repositories of $id into $TO"
}
