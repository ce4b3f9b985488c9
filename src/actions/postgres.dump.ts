// STUB — to be written. See src/actions/action.ts for the contract.
import type { Action } from './action.js';
import type { PostgresDumpInput } from '../runbook/schema.generated.js';

export const postgresDump: Action<PostgresDumpInput> = {
  name: 'postgres.dump',
  description: 'not yet written',
  verifies: 'not yet written',
  requires: () => [],
  destructive: () => false,
  expand: () => {
    throw new Error('postgres.dump is not yet written');
  },
};
