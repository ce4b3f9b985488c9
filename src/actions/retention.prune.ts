// STUB — to be written. See src/actions/action.ts for the contract.
import type { Action } from './action.js';
import type { RetentionPruneInput } from '../runbook/schema.generated.js';

export const retentionPrune: Action<RetentionPruneInput> = {
  name: 'retention.prune',
  description: 'not yet written',
  verifies: 'not yet written',
  requires: () => [],
  destructive: () => false,
  expand: () => {
    throw new Error('retention.prune is not yet written');
  },
};
