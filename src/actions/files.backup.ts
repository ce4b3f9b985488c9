// STUB — to be written. See src/actions/action.ts for the contract.
import type { Action } from './action.js';
import type { FilesBackupInput } from '../runbook/schema.generated.js';

export const filesBackup: Action<FilesBackupInput> = {
  name: 'files.backup',
  description: 'not yet written',
  verifies: 'not yet written',
  requires: () => [],
  destructive: () => false,
  expand: () => {
    throw new Error('files.backup is not yet written');
  },
};
