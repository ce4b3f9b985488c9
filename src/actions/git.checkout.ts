// git.checkout: puts the configuration repository at a ref into a folder (a fresh clone, or a fetch
// into an existing one), detached at exactly that commit.
//
// DESIGN.md names simple-git for this action, but simple-git only spawns git with an argv nobody
// sees; the action's shell text is what `exec` runs and what RECOVERY.md prints, so the plain git
// commands below are the honest form of the same operation.
import type { GitCheckoutInput } from '../runbook/schema.generated.js';
import { shellAssignments } from '../shell/quote.js';
import type { Action } from './action.js';

// A branch name resolves to the freshly fetched origin/REF first: a local branch of an existing
// clone may be stale. Tags and commit ids fall through to REF itself.
const resolveRef = 'git -C "$TO" rev-parse --verify --quiet "origin/$REF^{commit}" || git -C "$TO" rev-parse --verify "$REF^{commit}"';

export const gitCheckout: Action<GitCheckoutInput> = {
  name: 'git.checkout',
  description: 'Clones the configuration repository (or fetches into an existing clone) and checks out a ref, detached.',
  verifies: 'HEAD is the commit the repository holds under the ref right now, and the working tree has no changes.',
  requires: () => ['git'],
  destructive: () => false,
  expand: (input) => {
    const head = shellAssignments({ REPOSITORY: input.repository, REF: input.ref ?? 'main', TO: input.to });
    const run = [
      head,
      'if [ -d "$TO/.git" ]; then',
      `  git -C "$TO" fetch --prune --tags "$REPOSITORY" '+refs/heads/*:refs/remotes/origin/*'`,
      'else',
      '  git clone --no-checkout "$REPOSITORY" "$TO"',
      'fi',
      `commit=$(${resolveRef})`,
      'git -C "$TO" checkout --quiet --detach "$commit"',
      'echo "$TO is at $REF ($commit)"',
    ].join('\n');
    const verify = [
      head,
      'head=$(git -C "$TO" rev-parse HEAD)',
      "# What the repository holds under REF right now (a branch, else a tag's commit); a commit id stands for itself.",
      `want=$(git ls-remote "$REPOSITORY" | awk -v ref="$REF" '`,
      `  $2 == "refs/heads/" ref { branch = $1 }`,
      `  $2 == "refs/tags/" ref { tag = $1 }`,
      `  $2 == "refs/tags/" ref "^{}" { peeled = $1 }`,
      `  END { print (branch != "" ? branch : peeled != "" ? peeled : tag) }')`,
      '[ -n "$want" ] || want=$(git -C "$TO" rev-parse --verify "$REF^{commit}")',
      'if [ "$head" != "$want" ]; then',
      '  echo "$TO is at $head, but $REF is $want in $REPOSITORY" >&2',
      '  exit 1',
      'fi',
      'changes=$(git -C "$TO" status --porcelain)',
      'if [ -n "$changes" ]; then',
      '  printf \'%s has local changes:\\n%s\\n\' "$TO" "$changes" >&2',
      '  exit 1',
      'fi',
      'echo "$TO is at $REF ($head), clean"',
    ].join('\n');
    return { run, verify: { run: verify } };
  },
};
