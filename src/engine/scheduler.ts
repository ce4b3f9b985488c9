// The order of a run: which steps were settled before it starts (done earlier, not selected by
// --from/--only), then file order or, with --concurrency, every step whose needs succeeded, until a
// failure, a declined confirmation or a signal stops new starts; cleanup steps last, always.
import type { Plan, PlannedStep } from './plan-types.js';
import type { RunContext } from './run-context.js';
import { executeStep } from './run-step.js';
import { skipStep } from './step-end.js';

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
  for (const step of plan.steps) {
    const done = options.resume?.done.get(step.id);
    if (done && done.hash === step.hash) {
      run.results.get(step.id)!.outputs = done.outputs;
      run.outputs[step.id] = done.outputs;
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

const startStep = (run: RunContext, schedule: Schedule, step: PlannedStep) => {
  const promise = executeStep(run, step, run.options.signal).then((end) => {
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
    if (run.options.signal?.aborted) schedule.stopped = true;
    if (!schedule.stopped) startReady(run, schedule);
    if (schedule.running.size === 0) break;
    await Promise.race(schedule.running.values());
  }
};

/** Cleanup always runs, after failures and interrupts too; only a second signal stops it. */
export const runCleanup = async (run: RunContext): Promise<void> => {
  for (const step of run.plan.cleanup) {
    if (run.options.cleanupSignal?.aborted) break;
    await executeStep(run, step, run.options.cleanupSignal);
  }
};
