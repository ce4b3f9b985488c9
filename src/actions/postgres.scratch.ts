// STUB — to be written. See src/actions/action.ts for the contract.
import type { Action } from './action.js';
import type { PostgresScratchInput } from '../runbook/schema.generated.js';

export const postgresScratch: Action<PostgresScratchInput> = {
  name: 'postgres.scratch',
  description: 'not yet written',
  verifies: 'not yet written',
  requires: () => [],
  destructive: () => false,
  expand: () => {
    throw new Error('postgres.scratch is not yet written');
  },
};
