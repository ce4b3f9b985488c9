// The order of a run: which steps were settled before it starts (done earlier, not selected by
// --from/--only), then file order or, with --concurrency, every step whose needs succeeded, until a
// failure, a declined confirmation or a signal stops new starts; cleanup steps last, always.
import type { Plan, PlannedStep } from './plan-types.js';
import { faultRun, type RunContext } from './run-context.js';
import { executeStep } from './run-step.js';
import type { ResumeState } from './run-types.js';
import { failStep, skipStep } from './step-end.js';
import { decideWhenUpFront } from './step-shell.js';
import { referencesIn } from '../runbook/expression.js';

/** The ids `--from`/`--only` select (all steps when neither is given). */
export const selectSteps = (plan: Plan, from?: string, only?: string[]): Set<string> => {
  const ids = plan.steps.map((step) => step.id);
  // An include's id alone names all of its steps.
  const matches = (id: string, wanted: string) => id === wanted || id.startsWith(`${wanted}.`);
  if (only && only.length > 0) return new Set(ids.filter((id) => only.some((wanted) => matches(id, wanted))));
  if (from !== undefined)
    return new Set(
      ids.slice(
        Math.max(
          0,
          ids.findIndex((id) => matches(id, from)),
        ),
      ),
    );
  return new Set(ids);
};

/** The steps `--resume --from ID` runs again even when its journal counts them done: ID and after. */
export const stepsRunAgain = (plan: Plan, from?: string): Set<string> => (from === undefined ? new Set() : selectSteps(plan, from));

/** Full ids of the steps whose outputs `step` reads (`${{ steps.ID.outputs.KEY }}` in its with, env or when). */
const outputsRead = (step: PlannedStep): string[] => {
  const definition = step.definition;
  if (!definition) return [];
  const { with: input, env, when } = definition.step;
  return referencesIn([input, env, when]).flatMap((ref) => (ref.root === 'steps' && ref.path[0] ? [definition.prefix + ref.path[0]] : []));
};

/**
 * Steps a resumed run counts as done: verified in its journal and unchanged since, and every step
 * whose outputs they read done too (outputs of a step that runs again are new inputs). `--from`
 * runs its steps again even when they are done.
 */
export const doneEarlier = (plan: Plan, resume: ResumeState | undefined, from?: string): Set<string> => {
  if (!resume) return new Set();
  const rerun = stepsRunAgain(plan, from);
  const known = new Set(plan.steps.map((step) => step.id));
  const done = new Set(
    plan.steps.filter((step) => resume.done.get(step.id)?.hash === step.hash && !rerun.has(step.id)).map((step) => step.id),
  );
  // Until nothing changes: a step may read the outputs of one defined after it (`needs`).
  for (let changed = true; changed;) {
    changed = false;
    for (const step of plan.steps) {
      if (done.has(step.id) && outputsRead(step).some((id) => known.has(id) && !done.has(id))) {
        done.delete(step.id);
        changed = true;
      }
    }
  }
  return done;
};

/** Which steps a run selects, and what it continues. */
export interface Selection {
  from?: string;
  only?: string[];
  resume?: ResumeState;
}

/**
 * The steps a run will start, as far as known before it: selected by `--from`/`--only`, not done
 * earlier (resume), and not skipped by a `when` already false (one reading outputs counts as true).
 */
export const stepsThatRun = (plan: Plan, selection: Selection, processEnv: Record<string, string | undefined>): Set<string> => {
  const selected = selectSteps(plan, selection.from, selection.only);
  const done = doneEarlier(plan, selection.resume, selection.from);
  return new Set(
    plan.steps
      .filter((step) => selected.has(step.id) && !done.has(step.id) && decideWhenUpFront(plan, step, processEnv) !== false)
      .map((step) => step.id),
  );
};

/** Where the scheduler stands. */
interface Schedule {
  /** Steps that ended in a way their dependants may build on. */
  satisfied: Set<string>;
  /** Steps that will not start (again). */
  settled: Set<string>;
  /** Steps waiting to start, in plan order. */
  pending: PlannedStep[];
  running: Map<string, Promise<void>>;
  /** No new step starts once set. */
  stopped: boolean;
  concurrency: number;
  /** Ids of the plan's steps: needs on anything else (cleanup steps) do not hold a step back. */
  known: Set<string>;
}

/** Steps settled before the scheduler starts: done in an earlier attempt, or not selected. */
const settleBeforeStart = (run: RunContext): Schedule => {
  const { plan, options } = run;
  const satisfied = new Set<string>();
  const settled = new Set<string>();
  const selected = selectSteps(plan, options.from, options.only);
  const doneBefore = doneEarlier(plan, options.resume, options.from);
  for (const step of plan.steps) {
    if (doneBefore.has(step.id)) {
      const { outputs } = options.resume!.done.get(step.id)!;
      run.results.get(step.id)!.outputs = outputs;
      run.outputs[step.id] = outputs;
      skipStep(run, step, 'done earlier in this run');
    } else if (!selected.has(step.id)) skipStep(run, step, 'not selected');
    else continue;
    satisfied.add(step.id);
    settled.add(step.id);
  }
  const pending = plan.steps.filter((step) => !settled.has(step.id));
  const concurrency = Math.max(1, options.concurrency ?? 1);
  const known = new Set(plan.steps.map((step) => step.id));
  return { satisfied, settled, pending, running: new Map(), stopped: false, concurrency, known };
};

/**
 * Runs one step; an exception out of it (an engine bug) faults the run and fails the step, so the
 * run still ends with its record, its cleanup and its lock released.
 */
const executeGuarded = async (run: RunContext, step: PlannedStep, signal?: AbortSignal) => {
  try {
    return await executeStep(run, step, signal);
  } catch (error) {
    faultRun(run, error);
    return failStep(run, step, run.fault!.message, performance.now());
  }
};

const startStep = (run: RunContext, schedule: Schedule, step: PlannedStep) => {
  const promise = executeGuarded(run, step, run.stepSignal).then((end) => {
    schedule.running.delete(step.id);
    schedule.settled.add(step.id);
    if (end === 'done' || (end === 'skipped' && !run.abortedByOperator)) schedule.satisfied.add(step.id);
    if (end === 'failed' && !step.continueOnError) schedule.stopped = true;
    if (end === 'aborted' || run.abortedByOperator || end === 'interrupted') schedule.stopped = true;
  });
  schedule.running.set(step.id, promise);
};

/** Starts what may start now; skips steps whose needs ended without success. */
const startReady = (run: RunContext, schedule: Schedule) => {
  const { pending, running, settled, satisfied, concurrency } = schedule;
  for (let i = 0; i < pending.length && running.size < concurrency;) {
    const step = pending[i]!;
    const needs = step.needs.filter((id) => schedule.known.has(id));
    const unmet = needs.find((id) => settled.has(id) && !satisfied.has(id));
    if (unmet) {
      pending.splice(i, 1);
      settled.add(step.id);
      skipStep(run, step, `needs '${unmet}', which did not succeed`);
      continue;
    }
    if (needs.every((id) => satisfied.has(id))) {
      pending.splice(i, 1);
      startStep(run, schedule, step);
      // Without concurrency, file order is the order: never overtake a step still waiting.
      if (concurrency === 1) break;
      continue;
    }
    i++;
  }
};

/** Runs the plan's steps (not cleanup) until none is left or the run stops. */
export const runSteps = async (run: RunContext): Promise<void> => {
  const schedule = settleBeforeStart(run);
  for (;;) {
    if (run.stepSignal?.aborted) schedule.stopped = true;
    if (!schedule.stopped) startReady(run, schedule);
    if (schedule.running.size === 0) break;
    await Promise.race(schedule.running.values());
  }
};

/** Cleanup always runs, after failures, faults and interrupts too; only a second signal stops it. */
export const runCleanup = async (run: RunContext): Promise<void> => {
  const { cleanupSignal } = run.options;
  for (const [index, step] of run.plan.cleanup.entries()) {
    if (cleanupSignal?.aborted) {
      const left = run.plan.cleanup.slice(index).map((s) => s.id);
      run.emit({
        type: 'warning',
        message: `cleanup stopped by a second signal (${String(cleanupSignal.reason)}): not run: ${left.join(', ')}`,
      });
      return;
    }
    await executeGuarded(run, step, cleanupSignal);
  }
  if (cleanupSignal?.aborted && run.plan.cleanup.some((step) => run.results.get(step.id)!.status === 'interrupted'))
    run.emit({ type: 'warning', message: `cleanup stopped by a second signal (${String(cleanupSignal.reason)})` });
};
