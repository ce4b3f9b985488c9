# shellcheck shell=bash
# What git.backup's verification and git.restore share: whether a repository holds exactly the refs
# a git backup's manifest recorded for it.

# rb_git_check_refs REPO_PATH NAME: fails (with a diff) unless every ref of .refs[NAME] in
# $WORK/manifest.json resolves to the same object in REPO_PATH, it has no other refs, and its HEAD is
# the recorded one (where one was recorded). The explicit returns matter where a caller uses it as
# an `if` condition, where bash ignores `set -e`.
rb_git_check_refs() {
  local head
  jq -r --arg repo "$2" '.refs[$repo] | to_entries[] | select(.key != "HEAD") | "\(.value) \(.key)"' "$WORK/manifest.json" | sort > "$WORK/expected-refs"
  git -C "$1" for-each-ref --format='%(objectname) %(refname)' | sort > "$WORK/actual-refs"
  diff "$WORK/expected-refs" "$WORK/actual-refs" || return 1
  head="$(jq -r --arg repo "$2" '.refs[$repo].HEAD // empty' "$WORK/manifest.json")"
  if [ -n "$head" ] && [ "$(git -C "$1" rev-parse --verify -q HEAD || true)" != "$head" ]; then
    echo "$1: HEAD is not $head" >&2
    return 1
  fi
}
