// STUB — to be written. See src/actions/action.ts for the contract.
import type { Action } from './action.js';
import type { GitRestoreInput } from '../runbook/schema.generated.js';

export const gitRestore: Action<GitRestoreInput> = {
  name: 'git.restore',
  description: 'not yet written',
  verifies: 'not yet written',
  requires: () => [],
  destructive: () => false,
  expand: () => {
    throw new Error('git.restore is not yet written');
  },
};
