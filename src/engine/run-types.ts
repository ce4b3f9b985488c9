// The shapes of a run: what runPlan is given and what it returns, shared by the modules of a run.
import type { EventListener, RunOutcome, StepStatus } from './events.js';
import type { Plan } from './plan-types.js';
import type { RecordedInputs } from './run-inputs.js';

/** Outputs of finished steps, by full step id. */
export type StepOutputs = Record<string, Record<string, string>>;

/** What a resumed run already achieved, read from its journal. */
export interface ResumeState {
  runId: string;
  nextSeq: number;
  /** Steps with a verified `step-done` record. */
  done: Map<string, { hash: string; outputs: Record<string, string> }>;
}

export interface RunOptions {
  plan: Plan;
  stateDir: string;
  /** The environment steps inherit (process env plus --env-file). */
  processEnv: Record<string, string | undefined>;
  /** Values of the declared secrets, by name. */
  secrets: Record<string, string>;
  /** A fresh run's id; ignored when resuming. */
  runId: string;
  resume?: ResumeState;
  /** Answer yes to every confirmation. @default false */
  yes?: boolean;
  /** Skip the steps before this one. */
  from?: string;
  /** Run only these steps. */
  only?: string[];
  /** Independent steps run at the same time. @default 1 */
  concurrency?: number;
  /** Between SIGTERM and SIGKILL of a step's process group. @default 5000 */
  graceMs?: number;
  /** How long a manual step's verification is polled without a TTY. @default 600000 */
  manualTimeoutMs?: number;
  /** Aborted on SIGINT/SIGTERM (reason: the signal's name): the running steps are killed. */
  signal?: AbortSignal;
  /** Aborted on a second signal: stops cleanup too. */
  cleanupSignal?: AbortSignal;
  /** Asks the operator (a TTY); absent when nobody can answer. */
  ask?: (question: string) => Promise<string>;
  /** Receives every event, masked and timed. */
  onEvent?: EventListener | EventListener[];
  /** Recorded in the journal's run start, and exported to steps as RUNBOOK_COMMIT. */
  commit?: string;
  /** Files the run read that differ from `commit` (--allow-dirty): recorded in the run start. */
  dirty?: string[];
  /** The run's inputs as digests (run-inputs.ts): recorded in the run start, compared by `--resume`. */
  inputs?: RecordedInputs;
  flags?: Record<string, unknown>;
  /** Working directory of the steps. @default process.cwd() */
  cwd?: string;
}

export interface StepResult {
  id: string;
  name: string;
  cleanup: boolean;
  status: StepStatus;
  attempts: number;
  startedAt?: string;
  durationMs?: number;
  exitCodes: (number | null)[];
  /** The last verification's stdout, masked. */
  verifyOutput?: string;
  outputs: Record<string, string>;
  /** Why it was skipped or failed. */
  reason?: string;
  /** A failure tolerated by continue_on_error. */
  tolerated?: boolean;
}

export interface RunResult {
  runId: string;
  runbook: string;
  outcome: RunOutcome;
  startedAt: string;
  durationMs: number;
  steps: StepResult[];
  failedStep?: string;
  journal: string;
  log: string;
  /** What stopped the run besides its steps: the state folder could not be written, or an engine bug. */
  fault?: RunFault;
}

/** Why a run had to stop on its own: the first fault wins. */
export interface RunFault {
  /** One line: the folder and errno, or the internal error's message. */
  message: string;
  /** An engine bug (exit 70), rather than the state folder failing (exit 1). */
  internal: boolean;
  stack?: string;
}

/** How one step's execution ended, as the scheduler sees it. */
export type StepEnd = 'done' | 'failed' | 'skipped' | 'interrupted' | 'aborted';
