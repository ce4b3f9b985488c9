// STUB — to be written. See src/actions/action.ts for the contract.
import type { Action } from './action.js';
import type { FilesRestoreInput } from '../runbook/schema.generated.js';

export const filesRestore: Action<FilesRestoreInput> = {
  name: 'files.restore',
  description: 'not yet written',
  verifies: 'not yet written',
  requires: () => [],
  destructive: () => false,
  expand: () => {
    throw new Error('files.restore is not yet written');
  },
};
