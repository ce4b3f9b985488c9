// STUB — to be written. See src/actions/action.ts for the contract.
import type { Action } from './action.js';
import type { GitBackupInput } from '../runbook/schema.generated.js';

export const gitBackup: Action<GitBackupInput> = {
  name: 'git.backup',
  description: 'not yet written',
  verifies: 'not yet written',
  requires: () => [],
  destructive: () => false,
  expand: () => {
    throw new Error('git.backup is not yet written');
  },
};
