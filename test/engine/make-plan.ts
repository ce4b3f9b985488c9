// Hand-made plans for engine tests, independent of resolvePlan. A deferred step carries the
// definition the engine resolves it from at run time, as resolvePlan would give it.
import type { Plan, PlannedStep } from '../../src/engine/plan-types.js';

export type StepSpec = Partial<Omit<PlannedStep, 'verify'>> & { id: string; verify?: string | Partial<PlannedStep['verify']> };

export const makeStep = (spec: StepSpec): PlannedStep => {
  const verify = typeof spec.verify === 'string' || spec.verify === undefined ? { run: spec.verify ?? 'test -d /' } : spec.verify;
  const step = {
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
    requires: [],
    provides: [],
    hash: `hash-${spec.id}-${spec.run ?? ''}`,
    deferred: false,
    ...spec,
    verify: { run: 'test -d /', retries: 0, intervalMs: 50, ...verify },
  } as PlannedStep;
  if (step.deferred && !step.definition) {
    const run = step.run === undefined ? { manual: step.manual ?? step.name } : { run: step.run };
    const verify = { run: step.verify.run, expect: step.verify.expect, retries: step.verify.retries };
    step.definition = { step: { id: step.id, ...run, env: step.env, verify }, prefix: '', vars: {} };
  }
  return step;
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
