// STUB — to be written. See src/actions/action.ts for the contract.
import type { Action } from './action.js';
import type { HttpWaitInput } from '../runbook/schema.generated.js';

export const httpWait: Action<HttpWaitInput> = {
  name: 'http.wait',
  description: 'not yet written',
  verifies: 'not yet written',
  requires: () => [],
  destructive: () => false,
  expand: () => {
    throw new Error('http.wait is not yet written');
  },
};
