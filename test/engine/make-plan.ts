// Hand-made plans for engine tests, independent of the resolver.
import type { Plan, PlannedStep } from '../../src/engine/plan-types.js';
import type { StepResolver } from '../../src/engine/run.js';

export type StepSpec = Partial<Omit<PlannedStep, 'verify'>> & { id: string; verify?: string | Partial<PlannedStep['verify']> };

export const makeStep = (spec: StepSpec): PlannedStep => {
  const verify = typeof spec.verify === 'string' || spec.verify === undefined ? { run: spec.verify ?? 'test -d /' } : spec.verify;
  return {
    name: spec.id,
    file: 'test.yaml',
    line: 1,
    col: 1,
    kind: spec.manual !== undefined ? 'manual' : 'run',
    run: spec.manual !== undefined ? undefined : 'true',
    env: {},
    needs: [],
    retries: 0,
    continueOnError: false,
    cleanup: false,
    hash: `hash-${spec.id}-${spec.run ?? ''}`,
    deferred: false,
    ...spec,
    verify: { run: 'test -d /', retries: 0, intervalMs: 50, ...verify },
  } as PlannedStep;
};

export const makePlan = (steps: StepSpec[], extra: Partial<Plan> & { cleanupSteps?: StepSpec[] } = {}): Plan => {
  const { cleanupSteps = [], ...rest } = extra;
  return {
    file: 'test.yaml',
    name: 'test-runbook',
    kind: 'task',
    contentHash: 'content',
    protectedEnvironment: false,
    vars: {},
    secrets: [],
    requires: [],
    steps: steps.map(makeStep),
    cleanup: cleanupSteps.map((s) => makeStep({ ...s, cleanup: true })),
    ...rest,
  };
};

/** A resolver good enough for hand-made plans: `when` is the literal 'true' or 'false'. */
export const testResolver: StepResolver = {
  resolveStepShell: (_plan, step, outputs) => ({
    run: step.run,
    verify: step.verify,
    env: Object.fromEntries(
      Object.entries(step.env).map(([k, v]) => [
        k,
        v.replace(/\$\{\{ steps\.([\w-]+)\.outputs\.(\w+) \}\}/g, (_m, id: string, key: string) => outputs[id]?.[key] ?? ''),
      ]),
    ),
  }),
  evaluateWhen: (_plan, step) => step.when?.trim() !== 'false',
  stepEnvironment: (plan, secrets) => ({
    ...Object.fromEntries(Object.entries(plan.vars).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)])),
    ...secrets,
  }),
};
