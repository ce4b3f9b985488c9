# shellcheck shell=bash
# git.checkout run: a fresh clone, or a fetch into an existing one, then HEAD detached at exactly
# the commit REF names. Inputs: REPOSITORY REF TO.
rb_git_checkout_run() {
  local commit
  if [ -d "$TO/.git" ]; then
    git -C "$TO" fetch --prune --tags "$REPOSITORY" '+refs/heads/*:refs/remotes/origin/*'
  else
    git clone --no-checkout "$REPOSITORY" "$TO"
  fi
  # A branch name resolves to the freshly fetched origin/REF first: a local branch of an existing
  # clone may be stale. Tags and commit ids fall through to REF itself.
  commit=$(git -C "$TO" rev-parse --verify --quiet "origin/$REF^{commit}" || git -C "$TO" rev-parse --verify "$REF^{commit}")
  git -C "$TO" checkout --quiet --detach "$commit"
  echo "$TO is at $REF ($commit)"
}
