// The resolved plan: what `plan` prints and `exec` runs. One code path builds it (resolve.ts), so
// what plan shows is what exec hands to bash. It is plain data: it survives JSON unchanged.
import type { PositionTable } from '../runbook/positions.js';
import type { Step } from '../runbook/schema.generated.js';

export interface ResolvedVerify {
  /** Shell text that must exit 0. */
  run: string;
  /** Regular expression the verification's stdout must match. */
  expect?: string;
  /** Further polls after a failed one. @default 0 */
  retries: number;
  /** Pause between polls. @default 1000 */
  intervalMs: number;
  /** Limit for one verification attempt. */
  timeoutMs?: number;
}

/** The parts of a step that can depend on earlier steps' outputs, resolved right before it runs. */
export interface StepShell {
  /** Shell text of `run` (built-in actions expanded); undefined for manual steps. */
  run?: string;
  verify: ResolvedVerify;
  /** Step `env`, resolved (secret values included: never print this unmasked). */
  env: Record<string, string>;
}

export interface PlannedStep extends StepShell {
  /** Full id; steps of an include are `INCLUDE.STEP`. */
  id: string;
  name: string;
  /** Where the step is defined, for messages. */
  file: string;
  line: number;
  col: number;
  kind: 'run' | 'uses' | 'manual';
  uses?: string;
  manual?: string;
  /** Full ids this step waits for (include-level needs expanded to the include's steps). */
  needs: string[];
  /** A `${{ … }}` expression, evaluated right before the step would run. */
  when?: string;
  timeoutMs?: number;
  retries: number;
  confirm?: string;
  continueOnError: boolean;
  /** A cleanup step: runs at the end whatever happened. */
  cleanup: boolean;
  /**
   * Commands checked on PATH right before the step starts: its action's for a `uses` step; for
   * `run` and `manual` steps the `requires` of the runbook it is written in (the engine cannot tell
   * which of those the text calls). Empty for a step whose `when` is already false at plan time.
   */
  requires: string[];
  /** Commands the step installs (`provides`): on PATH once its verification passed, or it fails. */
  provides: string[];
  /** sha256 of the step's definition and resolved shell: resume compares it to spot changed steps. */
  hash: string;
  /**
   * True when `with`/`env` refer to step outputs: `run`/`verify`/`env` above are then a preview
   * (unresolved references shown as `${{ … }}`) and `resolveStepShell` gives the real text at run time.
   */
  deferred: boolean;
  /** What resolving the step again needs (deferred steps, `when`); absent in hand-made plans. */
  definition?: StepDefinition;
}

/** A step as written, with what it sees: enough to compute its shell again from the plan alone. */
export interface StepDefinition {
  /** The step as written in its file, expressions unresolved. */
  step: Step;
  /** `INCLUDE.` prefix of its ids, '' for the root runbook. */
  prefix: string;
  /** The vars the step sees (an included runbook's own among them; never secrets). */
  vars: Record<string, unknown>;
  /** Where its `with` sits in its file, for findings about inputs resolved at run time. */
  with?: { at: (string | number)[]; positions: PositionTable };
}

export interface Plan {
  /** Path of the runbook as given. */
  file: string;
  name: string;
  description?: string;
  kind: 'backup' | 'recovery' | 'restore-test' | 'task';
  rtoMs?: number;
  rpoMs?: number;
  rto?: string;
  rpo?: string;
  /** sha256 of the runbook file and every file it includes. */
  contentHash: string;
  /**
   * Absolute paths of every repository file the plan was read from: the runbook, each include, the
   * environment file (what the dirty check covers). Absent in hand-made plans.
   */
  sources?: string[];
  /** `--env NAME`, when given. */
  environment?: string;
  /** Whether the environment is marked `protected: true`. */
  protectedEnvironment: boolean;
  /** Resolved vars (no secrets among them). */
  vars: Record<string, unknown>;
  /** Names of declared secrets (of the runbook and its includes). */
  secrets: string[];
  /** Commands that must be on PATH: the runbook's `requires` and those of the actions it uses. */
  requires: string[];
  notify?: { on: ('start' | 'success' | 'failure')[]; ping?: string; webhook?: string };
  steps: PlannedStep[];
  cleanup: PlannedStep[];
}
