// The event stream of a run. The engine only emits these; renderers, the journal and the log
// subscribe, so the core knows nothing of terminals.
import type { RecordedInputs } from './run-inputs.js';

/** How a run ended. */
export type RunOutcome = 'success' | 'failed' | 'interrupted' | 'aborted';

/** What became of a step. */
export type StepStatus = 'pending' | 'running' | 'done' | 'failed' | 'skipped' | 'interrupted';

/** One verification poll's result. */
export interface VerifyResult {
  passed: boolean;
  exitCode: number | null;
  /** Polls made (1 + retries used). */
  polls: number;
  /** Why it failed: exit code, `expect` mismatch or timeout. */
  reason?: string;
  /** The last poll's stdout, masked and shortened. */
  output: string;
}

export interface RunStartEvent {
  type: 'run-start';
  runId: string;
  runbook: string;
  file: string;
  contentHash: string;
  commit?: string;
  /** Files read that differ from `commit` (--allow-dirty), as repository paths. */
  dirty?: string[];
  environment?: string;
  /** Resolved vars, secrets masked. */
  vars: Record<string, unknown>;
  /** Environment, vars, env file and secrets set, as salted digests (run-inputs.ts). */
  inputs?: RecordedInputs;
  flags: Record<string, unknown>;
  pid: number;
  host: string;
  user: string;
  resumed: boolean;
  steps: { id: string; name: string; cleanup: boolean }[];
}

export type EngineEvent =
  | RunStartEvent
  | { type: 'warning'; message: string }
  | { type: 'step-start'; id: string; name: string; hash: string; cleanup: boolean }
  | { type: 'step-output'; id: string; phase: 'run' | 'verify'; stream: 'stdout' | 'stderr'; line: string }
  | { type: 'manual'; id: string; instructions: string }
  | { type: 'confirm'; id: string; question: string; answer: 'yes' | 'no' | 'assumed-yes' }
  | {
      type: 'step-attempt';
      id: string;
      attempt: number;
      exitCode: number | null;
      signal: string | null;
      timedOut: boolean;
      durationMs: number;
      verify?: VerifyResult;
    }
  | {
      type: 'step-done';
      id: string;
      hash: string;
      attempts: number;
      durationMs: number;
      outputs: Record<string, string>;
      /** The passing attempt's run exit code and verification (one fsynced record, not two). */
      exitCode: number | null;
      verify: VerifyResult;
    }
  | { type: 'step-skipped'; id: string; reason: string }
  | { type: 'step-failed'; id: string; hash: string; attempts: number; durationMs: number; error: string; tolerated: boolean }
  | { type: 'interrupted'; signal: string; steps: string[] }
  | { type: 'run-end'; outcome: RunOutcome; durationMs: number; failedStep?: string; error?: string };

/** An event as delivered: with the time it happened. */
export type TimedEvent = EngineEvent & { t: string };

export type EventListener = (event: TimedEvent) => void;

/** Event types kept in the journal (output lines go to log.txt only). */
export const isJournaled = (event: EngineEvent): boolean => event.type !== 'step-output';
