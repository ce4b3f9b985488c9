# shellcheck shell=bash
# git.restore verify: every repository of the manifest exists under TO, is `git fsck --full` clean
# and holds exactly the manifest's refs (same object ids, HEAD too where one was recorded): one jq
# start and one diff for all repositories, not two and one each.
# Inputs: FROM TO BACKUP (as for the run; BACKUP is used when the run's `backup` output is absent).
rb_git_restore_verify() {
  # shellcheck disable=SC2034 # RB_ACTION names the action in the messages of lib/ functions (rb_say)
  local RB_ACTION=git.restore id repo ref oid refs
  local -A with_head=()
  rb_work git-restore-verify
  id="$(rb_backup_of_run "$BACKUP")"
  id="$(rb_backup_resolve "$FROM" "$id")"
  rclone cat "$FROM/$id/manifest.json" > "$WORK/manifest.json"
  jq -r "$(rb_jq_git_restored_refs)" "$WORK/manifest.json" > "$WORK/fields"
  sed -n 's/^R\t//p' "$WORK/fields" > "$WORK/repositories.txt"
  sed -n 's/^E\t//p' "$WORK/fields" | LC_ALL=C sort > "$WORK/expected-refs"
  while IFS=$'\t' read -r repo ref; do [[ $ref != *' HEAD' ]] || with_head[$repo]=1; done < "$WORK/expected-refs"
  : > "$WORK/actual-refs"
  while IFS= read -r repo; do
    git -C "$TO/$repo" fsck --full --no-progress
    # show-ref exits 1 for a repository without refs; --head adds HEAD when it resolves.
    refs="$(git -C "$TO/$repo" show-ref --head || true)"
    while read -r oid ref; do
      [ -n "$ref" ] || continue
      [ "$ref" != HEAD ] || [ -n "${with_head[$repo]:-}" ] || continue
      printf '%s\t%s %s\n' "$repo" "$oid" "$ref"
    done <<< "$refs" >> "$WORK/actual-refs"
  done < "$WORK/repositories.txt"
  LC_ALL=C sort -o "$WORK/actual-refs" "$WORK/actual-refs"
  if ! diff "$WORK/expected-refs" "$WORK/actual-refs"; then
    echo "the restored repositories under $TO do not hold exactly the refs of $FROM/$id (< manifest, > repository)" >&2
    exit 1
  fi
  echo "verified $(wc -l < "$WORK/repositories.txt") repositories under $TO: git fsck --full is clean, every ref equals $FROM/$id"
}
