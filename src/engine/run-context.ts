// The state one run shares among the scheduler, step execution and verification, passed to each
// explicitly: where the run writes, how it reports events, and what its steps produced so far.
import { closeSync, mkdirSync, openSync, rmSync, writeSync } from 'node:fs';
import { ExitCode, ExitError } from '../errors.js';
import { join } from 'node:path';
import type { EngineEvent, TimedEvent } from './events.js';
import { isJournaled } from './events.js';
import { openJournal, runDirectory, type Journal } from './journal.js';
import { createMasker, maskRecord, type Masker } from './mask.js';
import { privateDir } from './state-dir.js';
import type { Plan, PlannedStep } from './plan-types.js';
import { findProviders } from './provided-commands.js';
import type { RunFault, RunOptions, StepOutputs, StepResult } from './run-types.js';
import { describeStateFault, errnoOf, StateWriteError } from './state-fault.js';
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
  /** What the steps (not cleanup) run with: aborted by a signal, or by a fault of the run. */
  stepSignal?: AbortSignal;
  /** Aborted by {@link faultRun}. */
  halt: AbortController;
  /** Set by the first fault: the state folder could not be written, or the engine failed. */
  fault?: RunFault;
  /** Set once run-start is on record: from then on a fault stops the run instead of refusing it. */
  announced: boolean;
  journal: Journal;
  logPath: string;
  logFd: number;
  started: Date;
  startedMs: number;
}

/** Writes all of `text`: a short write on a full disk is retried until it fails with the errno. */
const writeWhole = (fd: number, text: string) => {
  const bytes = Buffer.from(text);
  for (let done = 0; done < bytes.length;) done += writeSync(fd, bytes, done);
};

/**
 * A failed journal or log write faults the run (reported once, by `onFault`) instead of throwing
 * into whichever step emitted: the run stops, cleanup runs and records what it still can.
 */
const createEmitter = (
  journal: Journal,
  log: { fd: number; path: string },
  mask: Masker,
  options: RunOptions,
  onFault: (error: unknown) => void,
) => {
  const listeners = [options.onEvent ?? []].flat();
  const attempt = (write: () => void, path: string) => {
    try {
      write();
    } catch (error) {
      onFault(error instanceof StateWriteError ? error : new StateWriteError(path, error));
    }
  };
  return (event: EngineEvent) => {
    // Only text is masked: ids, types and hashes stay what they are, or a journal could not be resumed.
    const timed = { ...maskRecord(event, mask), t: new Date().toISOString() } as TimedEvent;
    if (isJournaled(timed)) {
      const { t, type, ...rest } = timed;
      attempt(() => journal.append({ t, type, ...rest }), journal.path);
    }
    const line =
      timed.type === 'step-output'
        ? `[${timed.id}]${timed.phase === 'verify' ? ' verify' : ''} ${timed.stream === 'stderr' ? '!' : '|'} ${timed.line}`
        : `-- ${JSON.stringify(timed)}`;
    attempt(() => writeWhole(log.fd, `${timed.t} ${line}\n`), log.path);
    for (const listener of listeners) {
      try {
        listener(timed);
      } catch (error) {
        // A terminal that is gone (EPIPE, EIO) costs the run its display, not its course.
        if (errnoOf(error) === undefined) onFault(error);
      }
    }
  };
};

/**
 * Stops the run after a fault: the running steps' groups are ended and no step starts, cleanup
 * still runs. The first fault is the one reported; an engine bug counts as internal (exit 70).
 */
export const faultRun = (run: RunContext, error: unknown): void => {
  if (run.fault) return;
  // Only a failed write of the state folder is the machine's; anything else that reached here is a bug.
  const internal = !(error instanceof StateWriteError);
  run.fault = internal
    ? { message: run.mask(`internal error: ${(error as Error)?.message ?? String(error)}`), internal, stack: (error as Error)?.stack }
    : { message: run.mask(describeStateFault(run.options.stateDir, undefined, error)), internal };
  run.halt.abort('fault');
  if (!run.announced) return;
  run.emit({
    type: 'warning',
    message: internal
      ? 'stopping the run after an internal error; cleanup steps still run'
      : 'stopping the run: its state folder cannot be written; cleanup steps still run, and what they do may not be journaled',
  });
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

/** Opens the run's folder, journal and log (a resumed run appends to its own); refuses (exit 2) when it cannot. */
export const openRun = (options: RunOptions): RunContext => {
  try {
    return openRunFiles(options);
  } catch (error) {
    if (errnoOf(error) === undefined) throw error;
    throw new ExitError(ExitCode.usage, `${describeStateFault(options.stateDir, undefined, error)}; nothing was run`);
  }
};

const openRunFiles = (options: RunOptions): RunContext => {
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
  // The emitter reports a fault on the context it belongs to, which exists once this returns.
  const holder: { run?: RunContext } = {};
  const emit = createEmitter(journal, { fd: logFd, path: logPath }, mask, options, (error) => holder.run && faultRun(holder.run, error));
  const results = new Map([...plan.steps, ...plan.cleanup].map((step) => [step.id, pendingResult(step)]));
  const { processEnv, secrets, stateDir } = options;
  const { commit, dirty } = options;
  const baseEnv = createBaseEnvironment({ plan, runId, runDir, stateDir, processEnv, secrets, commit, dirty });
  const providers = findProviders(plan, stepsThatRun(plan, options, processEnv));
  const halt = new AbortController();
  const stepSignal = options.signal ? AbortSignal.any([options.signal, halt.signal]) : halt.signal;
  const context = { plan, options, runId, emit, mask, results, outputs: {}, baseEnv, outputsDir, providers, abortedByOperator: false };
  holder.run = { ...context, stepSignal, halt, announced: false, journal, logPath, logFd, started, startedMs };
  return holder.run;
};

/** Closes the journal and log, and removes the raw outputs files (the journal keeps masked copies). */
export const closeRun = (run: RunContext): void => {
  const closing: [() => void, string][] = [
    [() => run.journal.close(), run.journal.path],
    [() => closeSync(run.logFd), run.logPath],
    [() => rmSync(run.outputsDir, { recursive: true, force: true }), run.outputsDir],
  ];
  for (const [close, path] of closing) {
    try {
      close();
    } catch (error) {
      faultRun(run, new StateWriteError(path, error));
    }
  }
};
