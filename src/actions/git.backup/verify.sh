# shellcheck shell=bash
# git.backup verify: the uploaded bundles are fetched back; their sha256 equals the manifest's, each
# passes `git bundle verify`, and a mirror clone of each is `git fsck --full` clean and holds exactly
# the manifest's refs.
# Inputs: TO (where backups go).
rb_git_backup_verify() {
  # shellcheck disable=SC2034 # RB_ACTION names the action in the messages of lib/ functions (rb_say)
  local RB_ACTION=git.backup id repo
  rb_work git-backup-verify
  id="$(rb_backup_of_run latest)"
  id="$(rb_backup_resolve "$TO" "$id")"
  rclone copy --fast-list "$TO/$id" "$WORK/backup"
  cp "$WORK/backup/manifest.json" "$WORK/manifest.json"
  jq -r '.files[] | "\(.sha256)  \(.name)"' "$WORK/manifest.json" > "$WORK/SHA256SUMS"
  if [ -s "$WORK/SHA256SUMS" ]; then (cd "$WORK/backup" && sha256sum --check --quiet --strict "$WORK/SHA256SUMS"); fi
  jq -r '.refs | keys[]' "$WORK/manifest.json" > "$WORK/repositories.txt"
  while IFS= read -r repo; do
    if [ "$(jq --arg repo "$repo" '.refs[$repo] | length' "$WORK/manifest.json")" = 0 ]; then continue; fi
    git clone --quiet --mirror "$WORK/backup/bundles/$repo.bundle" "$WORK/check/$repo"
    git -C "$WORK/check/$repo" bundle verify --quiet "$WORK/backup/bundles/$repo.bundle"
    git -C "$WORK/check/$repo" fsck --full --no-progress
    rb_git_check_refs "$WORK/check/$repo" "$repo"
  done < "$WORK/repositories.txt"
}
