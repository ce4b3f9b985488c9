// `exec` as a function: resolve, preflight, lock, run (or resume), release. Returns data; the CLI
// and `drill` both build on it.
import { constants, hostname } from 'node:os';
import { resolve } from 'node:path';
import { ExitCode, ExitError } from '../errors.js';
import { formatDiagnostic } from '../runbook/diagnostic.js';
import { lintPaths } from '../lint/lint.js';
import type { SourceCache } from '../runbook/project.js';
import type { Plan } from './plan-types.js';
import type { ResolveOptions } from './resolve.js';
import { createRunId } from './journal.js';
import { endOrphans, findOrphans } from './orphans.js';
import { acquireLock, type HeldLock } from './lock.js';
import {
  checkConfirmations,
  checkEnvironment,
  checkGit,
  secretsInRunbookText,
  checkRequires,
  checkSelection,
  checkShellSyntax,
  collectSecrets,
} from './preflight.js';
import { checkBackupLocations } from './backup-locations.js';
import { readEnvFile } from './env-file.js';
import { loadResume, type CurrentInputs } from './resume.js';
import { collectRunInputs, recordInputs } from './run-inputs.js';
import { runPlan, type ResumeState, type RunResult } from './run.js';
import { doneEarlier, selectSteps, stepsRunAgain, stepsThatRun } from './scheduler.js';
import { stepPath } from './step-env.js';
import type { EventListener } from './events.js';
import { createMasker, maskRecord } from './mask.js';
import { notify, type NotifyEvent } from './notify.js';
import { prepareStateDir } from './state-dir.js';

export interface ExecOptions {
  file: string;
  /** `--env NAME`. */
  env?: string;
  /** `--var K=V`. */
  vars?: Record<string, string>;
  envFile?: string;
  /** Answer yes to confirmations. @default false */
  yes?: boolean;
  resume?: boolean;
  /** Resume despite changed verified steps or a torn last journal record. @default false */
  force?: boolean;
  from?: string;
  only?: string[];
  /** @default 1 */
  concurrency?: number;
  dryRun?: boolean;
  allowDirty?: boolean;
  /** @default $RUNBOOK_STATE_DIR, else .runbook in the working directory */
  stateDir?: string;
  /** Whether a person can answer prompts (a TTY). */
  interactive: boolean;
  ask?: (question: string) => Promise<string>;
  signal?: AbortSignal;
  cleanupSignal?: AbortSignal;
  onEvent?: EventListener | EventListener[];
  /** Refuse a `protected: true` environment (drill). @default false */
  refuseProtected?: boolean;
  /** @default 5000 */
  graceMs?: number;
  /** @default process.env */
  processEnv?: Record<string, string | undefined>;
  /** Builds the plan (resolve.ts's resolvePlan). */
  resolvePlan: (file: string, options: ResolveOptions & { envFile?: string; processEnv: Record<string, string | undefined> }) => Plan;
}

export interface DryRun {
  dryRun: true;
  plan: Plan;
  /** The steps that would run, in order. */
  selected: string[];
  /** Masks secret values in anything printed from the plan. */
  mask: (text: string) => string;
}

export const defaultStateDir = (env: Record<string, string | undefined> = process.env): string =>
  resolve(env.RUNBOOK_STATE_DIR || '.runbook');

/** 128 + the signal's number, as a shell reports a process the signal ended: SIGINT 130, SIGHUP 129. */
export const signalExitCode = (signal: unknown): number => {
  const number = constants.signals[String(signal) as NodeJS.Signals];
  return number === undefined ? ExitCode.interrupted : 128 + number;
};

/** Maps a run's outcome to the exit code of docs/design.md §4 (70 for a run an engine bug stopped). */
export const exitCodeOf = (result: RunResult, signal?: AbortSignal): number => {
  if (result.outcome === 'success') return ExitCode.ok;
  if (result.outcome === 'aborted') return ExitCode.aborted;
  if (result.outcome === 'interrupted') return signalExitCode(signal?.reason ?? 'SIGINT');
  if (result.fault?.internal) return ExitCode.internal;
  return ExitCode.failed;
};

/** Lint, resolve and every preflight check that needs neither the lock nor git. */
const preflight = async (options: ExecOptions, processEnv: Record<string, string | undefined>, envFileValues: Record<string, string>) => {
  // Preflight begins with lint: a runbook that CI would reject never starts (shellcheck is CI's job).
  // Lint and resolve read the same files: parse and validate them once.
  const sources: SourceCache = new Map();
  const lint = await lintPaths([options.file], { shellcheck: false, sources });
  const lintErrors = lint.diagnostics.filter((d) => d.severity === 'error');
  if (lintErrors.length) throw new ExitError(ExitCode.usage, lintErrors.map(formatDiagnostic).join('\n'));
  const plan = options.resolvePlan(options.file, {
    env: options.env,
    vars: options.vars,
    envFile: options.envFile,
    envFileValues,
    processEnv,
    sources,
  });
  if (options.concurrency !== undefined && (!Number.isInteger(options.concurrency) || options.concurrency < 1)) {
    throw new ExitError(ExitCode.usage, `--concurrency must be a whole number of at least 1, got ${options.concurrency}`);
  }
  if (options.resume && options.only?.length) throw new ExitError(ExitCode.usage, '--resume cannot be combined with --only');
  checkSelection(plan, options.from, options.only);
  checkRequires(plan, stepPath(processEnv.PATH), stepsThatRun(plan, { from: options.from, only: options.only }, processEnv));
  checkShellSyntax(plan);
  const secrets = collectSecrets(plan, processEnv);
  checkEnvironment(plan, options.refuseProtected ?? false);
  return { plan, secrets };
};

/** What `--resume` continues, with warnings about what it had to change. */
const prepareResume = (
  options: ExecOptions,
  stateDir: string,
  plan: Plan,
  lock: HeldLock,
  warnings: string[],
  current: CurrentInputs,
): ResumeState | undefined => {
  if (!options.resume) return undefined;
  // `--from ID` runs ID and what follows again: a change to those steps is no reason to refuse.
  const check = loadResume(stateDir, plan, options.force ?? false, stepsRunAgain(plan, options.from), current);
  lock.setRunId(check.state.runId);
  if (check.droppedTorn) warnings.push(`dropped the torn last journal record at ${check.droppedTorn} (--force)`);
  if (check.inputsDiffer.length > 0) warnings.push(`resuming with other inputs (--force): ${check.inputsDiffer.join('; ')}`);
  if (check.changed.length > 0)
    warnings.push(`step(s) changed since the journal recorded them, they run again: ${check.changed.join(', ')}`);
  return check.state;
};

/**
 * A run whose engine was SIGKILLed may have left its step's process group running: end it before
 * anything runs, so the crashed attempt never finishes behind this one.
 */
const endCrashedRuns = async (deadRuns: (string | undefined)[], graceMs: number, warnings: string[]) => {
  for (const deadRun of new Set(deadRuns.filter((id): id is string => id !== undefined))) {
    const orphans = findOrphans(deadRun);
    if (orphans.length === 0) continue;
    await endOrphans(deadRun, orphans, graceMs);
    warnings.push(
      `ended ${orphans.length} process group(s) left running by the crashed run ${deadRun}: ${orphans.map((o) => `step '${o.step}' (pgid ${o.pgid}, pids ${o.pids.join(' ')})`).join(', ')}`,
    );
  }
};

/** Sends the run's notifications; one that did not go out is a warning, never the run's outcome. */
const createRunNotifier =
  (plan: Plan, secrets: Record<string, string>, runId: string, onEvent: ExecOptions['onEvent']) =>
  async (event: NotifyEvent, result?: RunResult) => {
    if (!plan.notify?.on.includes(event) || (!plan.notify.ping && !plan.notify.webhook)) return;
    const mask = createMasker(Object.values(secrets));
    const summary = {
      runbook: plan.name,
      runId: result?.runId ?? runId,
      outcome: result?.outcome ?? 'started',
      failedStep: result?.failedStep,
      durationMs: result?.durationMs ?? 0,
      host: hostname(),
    };
    const sent = await notify(plan.notify, event, maskRecord(summary, mask));
    for (const error of sent.errors)
      for (const listener of [onEvent ?? []].flat())
        listener({ type: 'warning', message: `notification failed: ${mask(error)}`, t: new Date().toISOString() } as never);
  };

/** The listeners of the run, plus one that emits `warnings` right after run-start, so renderers show them in context. */
const withWarnings = (listeners: EventListener[], warnings: string[]): EventListener[] => {
  let warned = false;
  return [
    ...listeners,
    (event) => {
      if (event.type !== 'run-start' || warned) return;
      warned = true;
      for (const message of warnings) for (const listener of listeners) listener({ type: 'warning', message, t: event.t });
    },
  ];
};

/** The flags a run records in its journal. */
const recordedFlags = (options: ExecOptions): Record<string, unknown> => ({
  env: options.env,
  vars: options.vars,
  envFile: options.envFile,
  yes: options.yes,
  resume: options.resume,
  force: options.force,
  from: options.from,
  only: options.only,
  concurrency: options.concurrency,
  allowDirty: options.allowDirty,
});

export const executeRunbook = async (options: ExecOptions): Promise<RunResult | DryRun> => {
  const fileEnv = options.envFile ? readEnvFile(options.envFile) : {};
  const processEnv = { ...(options.processEnv ?? process.env), ...fileEnv };
  const stateDir = resolve(options.stateDir ?? defaultStateDir(processEnv));
  const { plan, secrets } = await preflight(options, processEnv, fileEnv);
  if (options.dryRun) {
    return { dryRun: true, plan, selected: [...selectSteps(plan, options.from, options.only)], mask: createMasker(Object.values(secrets)) };
  }
  const { commit, dirty } = await checkGit(plan, options.allowDirty ?? false);
  const runId = createRunId();
  const warnings = [...prepareStateDir(stateDir), ...secretsInRunbookText(plan, secrets)];
  const lock = acquireLock(stateDir, plan.name, runId, hostname());
  if (lock.tookOver)
    warnings.push(
      `took over a stale lock of pid ${lock.tookOver.pid} (started ${lock.tookOver.startedAt}, run ${lock.tookOver.runId}): that process is gone`,
    );
  const inputs = collectRunInputs({ environment: plan.environment, vars: plan.vars, envFile: fileEnv, secrets: plan.secrets, processEnv });
  try {
    const resume = prepareResume(options, stateDir, plan, lock, warnings, { inputs, secretValues: secrets });
    await endCrashedRuns([resume?.runId, lock.tookOver?.runId], options.graceMs ?? 5000, warnings);
    const { yes, interactive, from, only } = options;
    checkConfirmations(plan, { yes, interactive, from, only, skip: doneEarlier(plan, resume, from) });
    const runs = stepsThatRun(plan, { from, only, resume }, processEnv);
    // Preflight counted every selected step as one that runs; a resumed run skips those done earlier.
    if (resume) checkRequires(plan, stepPath(processEnv.PATH), runs);
    // Only a real run asks the backup store: plan and --dry-run stay offline.
    await checkBackupLocations(plan, runs, { processEnv, secrets });
    const notifyRun = createRunNotifier(plan, secrets, runId, options.onEvent);
    await notifyRun('start');
    const result = await runPlan({
      plan,
      stateDir,
      processEnv,
      secrets,
      runId,
      resume,
      yes: options.yes,
      from: options.from,
      only: options.only,
      concurrency: options.concurrency,
      graceMs: options.graceMs,
      signal: options.signal,
      cleanupSignal: options.cleanupSignal,
      ask: options.interactive ? options.ask : undefined,
      commit,
      dirty,
      inputs: recordInputs(inputs, secrets),
      flags: recordedFlags(options),
      onEvent: withWarnings([options.onEvent ?? []].flat(), warnings),
    });
    await notifyRun(result.outcome === 'success' ? 'success' : 'failure', result);
    return result;
  } finally {
    const kept = lock.release();
    if (kept)
      for (const listener of [options.onEvent ?? []].flat())
        listener({ type: 'warning', message: `the lock is left in place: ${kept}`, t: new Date().toISOString() });
  }
};
