# shellcheck shell=bash
# What git.backup and git.restore share: reading repositories that belong to another user (Gitea's
# git user, while the backup runs as root) without taking git's errors for empty repositories,
# whether a repository holds exactly the refs a backup's manifest recorded for it, and the
# repository files a bundle does not carry (hooks/, config, description) listed comparably.
#
# Trust: git (2.35.2 and later) refuses a repository owned by another user ("dubious ownership"),
# and honours safe.directory only from protected config: system, global or the command line. Each
# action function declares
#   local -x GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0=safe.directory GIT_CONFIG_VALUE_0='*'
# (command-line config git passes on to the git processes it starts), so the trust holds for that
# function's own git calls and ends with it: no config file is written.

# rb_git_check_refs REPO_PATH NAME: fails (with a diff) unless every ref of .refs[NAME] in
# $WORK/manifest.json resolves to the same object in REPO_PATH, it has no other refs, and its HEAD is
# the recorded one (where one was recorded). The explicit returns matter where a caller uses it as
# an `if` condition, where bash ignores `set -e`.
rb_git_check_refs() {
  local head
  jq -r --arg repo "$2" '.refs[$repo] | to_entries[] | select(.key != "HEAD") | "\(.value) \(.key)"' "$WORK/manifest.json" | sort > "$WORK/expected-refs" || return 1
  if ! git -C "$1" for-each-ref --format='%(objectname) %(refname)' > "$WORK/actual-refs"; then
    echo "$1: git cannot list its refs" >&2
    return 1
  fi
  sort -o "$WORK/actual-refs" "$WORK/actual-refs"
  diff "$WORK/expected-refs" "$WORK/actual-refs" || return 1
  head="$(jq -r --arg repo "$2" '.refs[$repo].HEAD // empty' "$WORK/manifest.json")"
  if [ -n "$head" ] && [ "$(git -C "$1" rev-parse --verify -q HEAD || true)" != "$head" ]; then
    echo "$1: HEAD is not $head" >&2
    return 1
  fi
}

# rb_git_repositories FOLDER: the bare repositories (*.git) under FOLDER, found recursively, one
# path relative to FOLDER a line, sorted.
rb_git_repositories() {
  (cd "$1" && find . -type d -name '*.git' -prune -print) | sed 's|^\./||' | LC_ALL=C sort
}

# rb_git_read REPO_PATH GIT_ARGS…: `git -C REPO_PATH GIT_ARGS…`, its output on stdout. Fails the step,
# naming the repository and git's own message, when git fails, and also when it only warns: "warning:
# ignoring broken ref" exits 0 while leaving the ref out, and what git leaves out of a listing the
# backup would silently lack. (Call it outside `$(…)` or assign its output, so its exit counts.)
rb_git_read() {
  local repo=$1
  shift
  if ! git -C "$repo" "$@" 2> "$WORK/git-stderr" || [ -s "$WORK/git-stderr" ]; then
    rb_fail "$repo: git $1 cannot read this repository: $(cat "$WORK/git-stderr")"
  fi
}

# rb_git_head REPO_PATH: the ref HEAD names (refs/heads/main), or nothing for a detached HEAD; fails
# like rb_git_read on anything else.
rb_git_head() {
  local code=0
  git -C "$1" symbolic-ref -q HEAD 2> "$WORK/git-stderr" || code=$?
  if [ "$code" -gt 1 ] || [ -s "$WORK/git-stderr" ]; then
    rb_fail "$1: git symbolic-ref HEAD cannot read this repository: $(cat "$WORK/git-stderr")"
  fi
}

# rb_git_metadata_names REPO_PATH: which of the repository files a bundle does not carry and Gitea
# relies on exist there: config, description, hooks (a folder: every file below it, e.g.
# hooks/pre-receive.d/gitea). One name a line.
rb_git_metadata_names() {
  local name
  for name in config description hooks; do
    if [ -e "$1/$name" ] || [ -L "$1/$name" ]; then printf '%s\n' "$name"; fi
  done
}

# rb_git_metadata_entries REPO_PATH: every entry of rb_git_metadata_names, recursively, as
# "PATH<TAB>TYPE<TAB>MODE<TAB>DATA" sorted: TYPE file, dir, symlink or other; MODE the permission
# bits as `find -printf %m` prints them (755); DATA a file's sha256, a symlink's target, else empty.
# The backup records these lines in the manifest (git-backup-repository.jq) and both verifications
# print the manifest's back in this same form, so one diff compares them. Owners are not here: a
# restore gives the whole repository its recorded owner.
rb_git_metadata_entries() {
  local -a names
  local unrecordable=$'*[\t\n\\\\]*'
  mapfile -t names < <(rb_git_metadata_names "$1")
  [ "${#names[@]}" -gt 0 ] || return 0
  (
    cd "$1" || exit 1
    # A tab, newline or backslash in a name would break these lines (and sha256sum escapes it).
    if [ -n "$(find "${names[@]}" -name "$unrecordable" -print -quit)" ]; then
      rb_fail "$1: a name under hooks/ holds a tab, newline or backslash, which the manifest cannot record"
    fi
    find "${names[@]}" -type f -exec sha256sum -- {} + > "$WORK/metadata-sums"
    find "${names[@]}" -printf '%y\t%m\t%p\t%l\n' | awk -F '\t' -v OFS='\t' '
      FILENAME == ARGV[1] { sha[substr($0, 67)] = substr($0, 1, 64); next }
      { type = $1 == "f" ? "file" : $1 == "d" ? "dir" : $1 == "l" ? "symlink" : "other"
        print $3, type, $2, type == "file" ? sha[$3] : type == "symlink" ? $4 : "" }' "$WORK/metadata-sums" -
  ) | LC_ALL=C sort
}

# rb_git_check_owner PATH UID GID: fails, naming the first few, unless every file and folder under
# PATH (itself included) is owned by UID:GID.
rb_git_check_owner() {
  find "$1" \( ! -uid "$2" -o ! -gid "$3" \) -printf '%p is owned by %U:%G\n' > "$WORK/other-owners"
  if [ -s "$WORK/other-owners" ]; then
    head -n 5 "$WORK/other-owners" >&2
    rb_say "$1: not every file is owned by $2:$3, the owner the backup recorded" >&2
    return 1
  fi
}
