// Shell shared by git.backup's verification and git.restore: does a repository hold exactly the
// refs the manifest recorded for it? Explicit `return 1`s: callers also use it as an `if` condition,
// where bash ignores `set -e`.
/** Defines `check_refs REPO_PATH NAME`: fails (with a diff) unless REPO_PATH's refs equal `.refs[NAME]` of $work/manifest.json. */
export const checkRefsShell = (): string =>
  [
    '# Every ref the manifest recorded resolves to the same object, and there are no others.',
    'check_refs() {',
    `  jq -r --arg repo "$2" '.refs[$repo] | to_entries[] | select(.key != "HEAD") | "\\(.value) \\(.key)"' "$work/manifest.json" | sort > "$work/expected-refs"`,
    `  git -C "$1" for-each-ref --format='%(objectname) %(refname)' | sort > "$work/actual-refs"`,
    '  diff "$work/expected-refs" "$work/actual-refs" || return 1',
    `  head=$(jq -r --arg repo "$2" '.refs[$repo].HEAD // empty' "$work/manifest.json")`,
    `  if [ -n "$head" ] && [ "$(git -C "$1" rev-parse --verify -q HEAD || true)" != "$head" ]; then echo "$1: HEAD is not $head" >&2; return 1; fi`,
    '}',
  ].join('\n');
