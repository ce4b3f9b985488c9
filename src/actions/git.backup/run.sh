# shellcheck shell=bash
# git.backup run: every bare repository under a folder (Gitea's owner/repo.git, found recursively) as
# a `git bundle --all`: one consistent snapshot of its refs and the objects they need, whatever a
# push or gc does meanwhile (git never exposes a half-written pack). The manifest, written last,
# records every ref → object id as the bundle holds it, and each repository's symbolic HEAD.
# Inputs: REPOSITORIES (the folder) TO (where backups go); RB_RUNBOOK RB_STEP name the manifest's
# runbook when run by hand.
rb_git_backup_run() {
  local dest repo head refs name
  rb_work git-backup
  rb_backup_start
  dest="$TO/$ID"

  cd "$REPOSITORIES" || exit 1
  find . -type d -name '*.git' -prune -print | sed 's|^\./||' | sort > "$WORK/repositories.txt"
  [ -s "$WORK/repositories.txt" ] || {
    echo "no bare repositories (*.git) under $REPOSITORIES" >&2
    exit 1
  }
  : > "$WORK/repositories.jsonl"
  while IFS= read -r repo; do
    head="$(git -C "$repo" symbolic-ref -q HEAD || true)"
    if [ -n "$(git -C "$repo" for-each-ref --count=1)" ]; then
      mkdir -p "$(dirname "$WORK/data/bundles/$repo")"
      git -C "$repo" bundle create --quiet "$WORK/data/bundles/$repo.bundle" --all
      refs="$(git bundle list-heads "$WORK/data/bundles/$repo.bundle" | jq -R -n "$(rb_jq_git_bundle_refs)")"
    else
      refs='{}' # an empty repository: nothing to bundle; restored as an empty bare repository
    fi
    jq -n -c --arg repo "$repo" --arg head "$head" --argjson refs "$refs" '{$repo, $head, $refs}' >> "$WORK/repositories.jsonl"
  done < "$WORK/repositories.txt"

  # sha256 and size of every bundle, for the manifest.
  mkdir -p "$WORK/data"
  cd "$WORK/data" || exit 1
  find . -type f | sed 's|^\./||' | sort | while IFS= read -r name; do
    jq -n -c --arg name "$name" --argjson bytes "$(stat -c %s "$name")" --arg sha256 "$(sha256sum < "$name" | cut -d ' ' -f 1)" '{$name, $bytes, $sha256}'
  done > "$WORK/files.jsonl"

  rclone copy "$WORK/data" "$dest"
  rclone check --fast-list "$WORK/data" "$dest"

  # The manifest goes last: until it exists the folder is an incomplete backup.
  rb_manifest_write git --arg source "$REPOSITORIES" --slurpfile files "$WORK/files.jsonl" --slurpfile repos "$WORK/repositories.jsonl" \
    "$(rb_jq_git_backup_manifest)"
  rclone copyto "$WORK/manifest.json" "$dest/manifest.json"
  echo "backed up $(wc -l < "$WORK/repositories.txt") repositories to $dest"
}
