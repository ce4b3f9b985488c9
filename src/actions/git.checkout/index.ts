// git.checkout: puts the configuration repository at a ref into a folder (a fresh clone, or a fetch
// into an existing one), detached at exactly that commit.
//
// The dependency list names simple-git for this, but simple-git only spawns git with an argv nobody
// sees; the action's shell (run.sh, verify.sh beside this file) is what `exec` runs and what
// RECOVERY.md prints, so the plain git commands there are the honest form of the same operation.
import type { GitCheckoutInput } from '../../runbook/schema.generated.js';
import { callShell, type Action } from '../action.js';

export const gitCheckout: Action<GitCheckoutInput> = {
  name: 'git.checkout',
  description: 'Clones the configuration repository (or fetches into an existing clone) and checks out a ref, detached.',
  verifies: 'HEAD is the commit the repository holds under the ref right now, and the working tree has no changes.',
  requires: () => ['git'],
  destructive: () => false,
  expand: (input) => {
    const inputs = { REPOSITORY: input.repository, REF: input.ref ?? 'main', TO: input.to };
    return { run: callShell('rb_git_checkout_run', inputs), verify: { run: callShell('rb_git_checkout_verify', inputs) } };
  },
};
