# shellcheck shell=bash
# git.checkout verify: HEAD is the commit the repository holds under REF right now (not what a
# stale clone remembers), and the working tree has no changes. Inputs: REPOSITORY REF TO.
rb_git_checkout_verify() {
  local head want changes
  head=$(git -C "$TO" rev-parse HEAD)
  # What the repository holds under REF right now (a branch, else a tag's commit); a commit id stands for itself.
  want=$(git ls-remote "$REPOSITORY" | awk -v ref="$REF" '
    $2 == "refs/heads/" ref { branch = $1 }
    $2 == "refs/tags/" ref { tag = $1 }
    $2 == "refs/tags/" ref "^{}" { peeled = $1 }
    END { print (branch != "" ? branch : peeled != "" ? peeled : tag) }')
  [ -n "$want" ] || want=$(git -C "$TO" rev-parse --verify "$REF^{commit}")
  if [ "$head" != "$want" ]; then
    echo "$TO is at $head, but $REF is $want in $REPOSITORY" >&2
    exit 1
  fi
  changes=$(git -C "$TO" status --porcelain)
  if [ -n "$changes" ]; then
    printf '%s has local changes:\n%s\n' "$TO" "$changes" >&2
    exit 1
  fi
  echo "$TO is at $REF ($head), clean"
}
