// The registry: every rule, one file each, in sorted order (like eslint's lib/rules/index.js).
import type { Rule } from '../rule.js';
import { actionInput } from './action-input.js';
import { backupWindowOverlap } from './backup-window-overlap.js';
import { dependencyCycle } from './dependency-cycle.js';
import { destructiveAction } from './destructive-action.js';
import { destructiveShell } from './destructive-shell.js';
import { duplicateStepId } from './duplicate-step-id.js';
import { expressionInShell } from './expression-in-shell.js';
import { expressionSyntax } from './expression-syntax.js';
import { invalidExpect } from './invalid-expect.js';
import { missingRto } from './missing-rto.js';
import { missingTimeout } from './missing-timeout.js';
import { missingVerify } from './missing-verify.js';
import { schedule } from './schedule.js';
import { secretInWith } from './secret-in-with.js';
import { stepOutput } from './step-output.js';
import { trivialVerify } from './trivial-verify.js';
import { undefinedSecret } from './undefined-secret.js';
import { undefinedVar } from './undefined-var.js';
import { unknownNeeds } from './unknown-needs.js';

export const rules: readonly Rule[] = [
  actionInput,
  backupWindowOverlap,
  dependencyCycle,
  destructiveAction,
  destructiveShell,
  duplicateStepId,
  expressionInShell,
  expressionSyntax,
  invalidExpect,
  missingRto,
  missingTimeout,
  missingVerify,
  schedule,
  secretInWith,
  stepOutput,
  trivialVerify,
  undefinedSecret,
  undefinedVar,
  unknownNeeds,
];
