# shellcheck shell=bash
# git.restore verify: every repository of the manifest exists under TO, is `git fsck --full` clean
# and holds exactly the manifest's refs (same object ids, HEAD too where one was recorded): one jq
# start and one diff for all repositories, not two and one each. Where the manifest records them,
# its hooks/, config and description equal the manifest's entries (content, type, mode) and every
# file and folder in it is owned by the recorded uid:gid.
# Inputs: FROM TO BACKUP (as for the run; BACKUP is used when the run's `backup` output is absent)
# SIGNERS ALLOW_UNSIGNED.
rb_git_restore_verify() {
  # shellcheck disable=SC2034 # RB_ACTION names the action in the messages of lib/ functions (rb_say)
  local RB_ACTION=git.restore id repo ref oid refs uid gid code failed=false
  local -x GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0=safe.directory GIT_CONFIG_VALUE_0='*'
  local -A with_head=()
  rb_work git-restore-verify
  id="$(rb_backup_of_run "$BACKUP")"
  id="$(rb_backup_pick "$FROM" "$id" "$WORK/manifest.json")"
  jq -r "$(rb_jq_git_restored_refs)" "$WORK/manifest.json" > "$WORK/fields"
  sed -n 's/^R\t//p' "$WORK/fields" > "$WORK/repositories.txt"
  sed -n 's/^E\t//p' "$WORK/fields" | LC_ALL=C sort > "$WORK/expected-refs"
  sed -n 's/^M\t//p' "$WORK/fields" | LC_ALL=C sort > "$WORK/expected-metadata"
  sed -n 's/^O\t//p' "$WORK/fields" > "$WORK/owners.tsv"
  while IFS=$'\t' read -r repo ref; do [[ $ref != *' HEAD' ]] || with_head[$repo]=1; done < "$WORK/expected-refs"
  : > "$WORK/actual-refs"
  while IFS= read -r repo; do
    git -C "$TO/$repo" fsck --full --no-progress
    # show-ref exits 1 for a repository without refs (and nothing else); --head adds HEAD when it resolves.
    code=0
    refs="$(git -C "$TO/$repo" show-ref --head)" || code=$?
    [ "$code" -le 1 ] || rb_fail "$TO/$repo: git show-ref cannot read this repository"
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

  : > "$WORK/actual-metadata"
  while IFS=$'\t' read -r repo uid gid; do
    rb_git_metadata_entries "$TO/$repo" | REPO=$repo awk '{ print ENVIRON["REPO"] "\t" $0 }' >> "$WORK/actual-metadata"
  done < "$WORK/owners.tsv"
  LC_ALL=C sort -o "$WORK/actual-metadata" "$WORK/actual-metadata"
  # Both kinds of difference are reported before failing: a wrong mode and a wrong owner often come
  # together (a restore not run as root) and one repair fixes both.
  if ! diff "$WORK/expected-metadata" "$WORK/actual-metadata" > "$WORK/metadata-diff"; then
    head -n 20 "$WORK/metadata-diff" >&2
    rb_say "the restored hooks, config or description under $TO differ from $FROM/$id (< manifest: REPO PATH TYPE MODE SHA256, > repository)" >&2
    failed=true
  fi
  while IFS=$'\t' read -r repo uid gid; do
    rb_git_check_owner "$TO/$repo" "$uid" "$gid" || failed=true
  done < "$WORK/owners.tsv"
  [ "$failed" = false ] || exit 1
  echo "verified $(wc -l < "$WORK/repositories.txt") repositories under $TO: git fsck --full is clean, every ref, hook, config, description and owner equals $FROM/$id"
}
