// STUB — to be written. See src/actions/action.ts for the contract.
import type { Action } from './action.js';
import type { DnsUpdateInput } from '../runbook/schema.generated.js';

export const dnsUpdate: Action<DnsUpdateInput> = {
  name: 'dns.update',
  description: 'not yet written',
  verifies: 'not yet written',
  requires: () => [],
  destructive: () => false,
  expand: () => {
    throw new Error('dns.update is not yet written');
  },
};
