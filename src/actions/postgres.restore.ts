// STUB — to be written. See src/actions/action.ts for the contract.
import type { Action } from './action.js';
import type { PostgresRestoreInput } from '../runbook/schema.generated.js';

export const postgresRestore: Action<PostgresRestoreInput> = {
  name: 'postgres.restore',
  description: 'not yet written',
  verifies: 'not yet written',
  requires: () => [],
  destructive: () => false,
  expand: () => {
    throw new Error('postgres.restore is not yet written');
  },
};
