// STUB — to be written. See src/actions/action.ts for the contract.
import type { Action } from './action.js';
import type { GitCheckoutInput } from '../runbook/schema.generated.js';

export const gitCheckout: Action<GitCheckoutInput> = {
  name: 'git.checkout',
  description: 'not yet written',
  verifies: 'not yet written',
  requires: () => [],
  destructive: () => false,
  expand: () => {
    throw new Error('git.checkout is not yet written');
  },
};
