// The contract every built-in action fulfils: inputs (a JSON Schema in schemas/actions/), the shell
// that runs, and the shell that verifies. The shell is what `plan`, `docs` and `exec` all use.
import type { VerifyObject } from '../runbook/schema.generated.js';
import { shellAssignments } from '../shell/quote.js';

/** What an action knows about the step and run it expands for. */
export interface ExpandContext {
  /** The runbook's `name`. */
  runbook: string;
  /** The step's full id (namespaced when included). */
  stepId: string;
  /** Names of the runbook's declared secrets (their values are never put into shell text). */
  secrets: readonly string[];
  /** The runbook's `rpo`, for actions that judge backup age. */
  rpo?: string;
}

export interface Expansion {
  /** Shell text for bash -euo pipefail. */
  run: string;
  /** The verification; built-in actions always carry one and it cannot be switched off. */
  verify: VerifyObject;
}

export interface Action<Input = Record<string, unknown>> {
  /** The name used in `uses:`, e.g. `postgres.dump`. */
  name: string;
  /** One sentence: what the action does (shown in docs). */
  description: string;
  /** One sentence: what its verification proves (shown in docs). */
  verifies: string;
  /** Commands the expanded shell calls; preflight checks they are on PATH. */
  requires: (input: Input) => string[];
  /** Whether a step using it destroys data, and so needs `confirm`. */
  destructive: (input: Input) => boolean;
  /** Expands validated, expression-resolved inputs to shell. */
  expand: (input: Input, context: ExpandContext) => Expansion;
}

/**
 * An action's shell text: its inputs as quoted assignments, any `lines` (e.g. `export PGPASSWORD=…`),
 * then the call of its library function (src/actions/NAME/run.sh or verify.sh).
 */
export const callShell = (
  fn: string,
  values: Record<string, string | number | boolean | undefined>,
  lines: readonly string[] = [],
): string => [shellAssignments(values), ...lines, fn].filter(Boolean).join('\n');

/** What every restore action takes to decide whose backups it trusts (the signing contract). */
export interface TrustInput {
  /** OpenSSH public key lines whose signatures are trusted. @default none */
  signers?: string;
  /** Restore a backup without a (valid) signature check. @default false */
  allow_unsigned?: boolean;
}

/** The shell inputs of {@link TrustInput} that rb_backup_pick (lib/backup.sh) reads. */
export const trustValues = (input: TrustInput): { SIGNERS: string; ALLOW_UNSIGNED: boolean } => ({
  SIGNERS: input.signers ?? '',
  ALLOW_UNSIGNED: input.allow_unsigned ?? false,
});

/** ssh-keygen verifies signatures, when there are signers to verify against. */
export const trustRequires = (input: TrustInput): string[] => (input.signers ? ['ssh-keygen'] : []);
