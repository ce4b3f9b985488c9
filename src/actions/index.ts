// The registry of built-in actions: one folder each (src/actions/NAME/), listed here in sorted order.
import type { Action } from './action.js';
import { composeUp } from './compose.up/index.js';
import { dnsUpdate } from './dns.update/index.js';
import { filesBackup } from './files.backup/index.js';
import { filesRestore } from './files.restore/index.js';
import { gitBackup } from './git.backup/index.js';
import { gitCheckout } from './git.checkout/index.js';
import { gitRestore } from './git.restore/index.js';
import { httpWait } from './http.wait/index.js';
import { postgresDump } from './postgres.dump/index.js';
import { postgresRestore } from './postgres.restore/index.js';
import { postgresScratch } from './postgres.scratch/index.js';
import { retentionPrune } from './retention.prune/index.js';
import { secretsBackup } from './secrets.backup/index.js';
import { secretsRestore } from './secrets.restore/index.js';

export const actions: Record<string, Action<any>> = {
  'compose.up': composeUp,
  'dns.update': dnsUpdate,
  'files.backup': filesBackup,
  'files.restore': filesRestore,
  'git.backup': gitBackup,
  'git.checkout': gitCheckout,
  'git.restore': gitRestore,
  'http.wait': httpWait,
  'postgres.dump': postgresDump,
  'postgres.restore': postgresRestore,
  'postgres.scratch': postgresScratch,
  'retention.prune': retentionPrune,
  'secrets.backup': secretsBackup,
  'secrets.restore': secretsRestore,
};

export const findAction = (name: string): Action<any> | undefined => (Object.hasOwn(actions, name) ? actions[name] : undefined);
