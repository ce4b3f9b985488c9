// The state one run shares among the scheduler, step execution and verification, passed to each
// explicitly: where the run writes, how it reports events, and what its steps produced so far.
import { closeSync, mkdirSync, openSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { EngineEvent, TimedEvent } from './events.js';
import { isJournaled } from './events.js';
import { openJournal, runDirectory, type Journal } from './journal.js';
import { createMasker, maskRecord, type Masker } from './mask.js';
import { privateDir } from './state-dir.js';
import type { Plan, PlannedStep } from './plan-types.js';
import { findProviders } from './provided-commands.js';
import type { RunOptions, StepOutputs, StepResult } from './run-types.js';
import { stepsThatRun } from './scheduler.js';
import { createBaseEnvironment } from './step-env.js';

export interface RunContext {
  plan: Plan;
  options: RunOptions;
  runId: string;
  /** Masks, journals, logs and forwards an event to the listeners. */
  emit: (event: EngineEvent) => void;
  mask: Masker;
  /** Every step's result (cleanup steps included), updated as the run goes. */
  results: Map<string, StepResult>;
  /** Outputs of the steps done so far: later steps' `${{ steps.ID.outputs.KEY }}` read them. */
  outputs: StepOutputs;
  /** The environment every step starts from. */
  baseEnv: Record<string, string>;
  /** Where steps write their `$RUNBOOK_OUTPUT` files. */
  outputsDir: string;
  /** For each command a step of this run provides, the first such step (provided-commands.ts). */
  providers: ReadonlyMap<string, PlannedStep>;
  /** Set once the operator declined a confirmation or aborted a manual step: the run ends aborted. */
  abortedByOperator: boolean;
  journal: Journal;
  logPath: string;
  logFd: number;
  started: Date;
  startedMs: number;
}

const createEmitter = (journal: Journal, logFd: number, mask: Masker, options: RunOptions) => {
  const listeners = [options.onEvent ?? []].flat();
  const log = (t: string, text: string) => writeSync(logFd, `${t} ${text}\n`);
  return (event: EngineEvent) => {
    // Only text is masked: ids, types and hashes stay what they are, or a journal could not be resumed.
    const timed = { ...maskRecord(event, mask), t: new Date().toISOString() } as TimedEvent;
    if (isJournaled(timed)) {
      const { t, type, ...rest } = timed;
      journal.append({ t, type, ...rest });
    }
    if (timed.type === 'step-output')
      log(timed.t, `[${timed.id}]${timed.phase === 'verify' ? ' verify' : ''} ${timed.stream === 'stderr' ? '!' : '|'} ${timed.line}`);
    else log(timed.t, `-- ${JSON.stringify(timed)}`);
    for (const listener of listeners) listener(timed);
  };
};

const pendingResult = (step: Plan['steps'][number]): StepResult => ({
  id: step.id,
  name: step.name,
  cleanup: step.cleanup,
  status: 'pending',
  attempts: 0,
  exitCodes: [],
  outputs: {},
});

/** Opens the run's folder, journal and log (a resumed run appends to its own). */
export const openRun = (options: RunOptions): RunContext => {
  const { plan } = options;
  const runId = options.resume?.runId ?? options.runId;
  const runDir = runDirectory(options.stateDir, runId);
  const outputsDir = join(runDir, 'outputs');
  // runs/RUN_ID and its outputs/ private: the outputs files hold what steps wrote, unmasked.
  mkdirSync(outputsDir, { recursive: true, mode: privateDir });
  const journal = openJournal(join(runDir, 'journal.jsonl'), options.resume?.nextSeq ?? 1);
  const logPath = join(runDir, 'log.txt');
  const logFd = openSync(logPath, 'a', 0o600);
  const mask = createMasker(Object.values(options.secrets));
  const started = new Date();
  const startedMs = performance.now();
  const emit = createEmitter(journal, logFd, mask, options);
  const results = new Map([...plan.steps, ...plan.cleanup].map((step) => [step.id, pendingResult(step)]));
  const { processEnv, secrets, stateDir } = options;
  const { commit, dirty } = options;
  const baseEnv = createBaseEnvironment({ plan, runId, runDir, stateDir, processEnv, secrets, commit, dirty });
  const providers = findProviders(plan, stepsThatRun(plan, options, processEnv));
  const context = { plan, options, runId, emit, mask, results, outputs: {}, baseEnv, outputsDir, providers, abortedByOperator: false };
  return { ...context, journal, logPath, logFd, started, startedMs };
};

/** Closes the journal and log, and removes the raw outputs files (the journal keeps masked copies). */
export const closeRun = (run: RunContext): void => {
  run.journal.close();
  closeSync(run.logFd);
  rmSync(run.outputsDir, { recursive: true, force: true });
};
