// A step's shell computed from plain plan data: at plan time (outputs not known yet show as
// `${{ … }}`), and again right before a deferred step runs, once the outputs it reads exist. Pure:
// it reads no files and keeps no state, so a plan that went through JSON runs the same.
import { findAction } from '../actions/index.js';
import { ExitCode, ExitError } from '../errors.js';
import { unverifiedKind } from '../lint/rules/missing-verify.js';
import { formatDiagnostic } from '../runbook/diagnostic.js';
import { parseDuration } from '../runbook/duration.js';
import { evaluate, findExpressions, interpolate, isTrue, parseExpression, type Scope } from '../runbook/expression.js';
import type { Verify } from '../runbook/schema.generated.js';
import { validateActionInput } from '../runbook/validate.js';
import type { Plan, PlannedStep, ResolvedVerify, StepDefinition, StepShell } from './plan-types.js';

/** Step outputs so far, by full step id. */
export type Outputs = Record<string, Record<string, string>>;

type ProcessEnv = Record<string, string | undefined>;

const normalizeVerify = (verify: Verify | undefined): ResolvedVerify | undefined => {
  if (verify === undefined) return undefined;
  if (typeof verify === 'string') return { run: verify, retries: 0, intervalMs: 1000 };
  return {
    run: verify.run,
    expect: verify.expect,
    retries: verify.retries ?? 0,
    intervalMs: parseDuration(verify.interval) ?? 1000,
    timeoutMs: parseDuration(verify.timeout),
  };
};

/** A built-in action's verification always runs; a step's own `verify` comes after it. */
const combineVerify = (builtIn: ResolvedVerify, own: ResolvedVerify | undefined): ResolvedVerify =>
  own
    ? {
        run: `${builtIn.run}\n# the step's own verification\n${own.run}`,
        expect: own.expect ?? builtIn.expect,
        retries: Math.max(builtIn.retries, own.retries),
        intervalMs: Math.max(builtIn.intervalMs, own.intervalMs),
        timeoutMs: own.timeoutMs ?? builtIn.timeoutMs,
      }
    : builtIn;

const envText = (value: unknown): string =>
  value === null || value === undefined ? '' : typeof value === 'object' ? JSON.stringify(value) : String(value);

/** Values of the plan's declared secrets that the environment holds. */
const secretValues = (plan: Pick<Plan, 'secrets'>, processEnv: ProcessEnv): Record<string, string> =>
  Object.fromEntries(plan.secrets.filter((name) => processEnv[name] !== undefined).map((name) => [name, processEnv[name]!]));

/** Outputs of steps as one included runbook sees them: its own ids, without the prefix. */
export const scopedOutputs = (outputs: Outputs, prefix: string): Scope['steps'] =>
  Object.fromEntries(
    Object.entries(outputs)
      .filter(([id]) => id.startsWith(prefix) && !id.slice(prefix.length).includes('.'))
      .map(([id, values]) => [id.slice(prefix.length), { outputs: values }]),
  );

/** Outputs that are not known yet, shown as the expression that will fill them. */
export const placeholderOutputs = (stepIds: readonly string[]): Scope['steps'] =>
  Object.fromEntries(
    stepIds.map((id) => [
      id,
      {
        outputs: new Proxy({} as Record<string, string>, {
          get: (_t, key) => `\${{ steps.${id}.outputs.${String(key)} }}`,
          getOwnPropertyDescriptor: (_t, key) => ({
            value: `\${{ steps.${id}.outputs.${String(key)} }}`,
            enumerable: true,
            configurable: true,
          }),
          has: () => true,
        }),
      },
    ]),
  );

/** Whether a value reads `${{ steps.… }}`: then the step's shell waits for those outputs. */
export const refersToOutputs = (value: unknown): boolean => {
  const text = JSON.stringify(value ?? null);
  return text.includes('steps.') && findExpressions(text).some((e) => /\bsteps\./.test(e.source));
};

/** What {@link expandStep} needs besides the step. */
export interface ExpandRequest {
  definition: StepDefinition;
  /** The step's full id and where it is defined, for messages. */
  step: Pick<PlannedStep, 'id' | 'file' | 'line' | 'col'>;
  plan: Pick<Plan, 'name' | 'rpo' | 'secrets'>;
  processEnv: ProcessEnv;
  /** Step outputs as the step's runbook names them (placeholders at plan time). */
  steps: Scope['steps'];
  /** Check a built-in action's inputs against its schema (not while they still hold placeholders). */
  validate: boolean;
}

export interface ExpandedStep {
  shell: StepShell;
  /** Commands the shell calls (a built-in action's). */
  requires: string[];
}

/**
 * Resolves a step's `env` and `with` and expands its built-in action. Throws ExpressionError for a
 * bad expression and ExitError(2) for invalid inputs or a step that nothing verifies.
 */
export const expandStep = (request: ExpandRequest): ExpandedStep => {
  const { definition, plan, processEnv } = request;
  const { step, vars } = definition;
  const scope: Scope = { vars, secrets: secretValues(plan, processEnv), steps: request.steps, env: processEnv };
  // The step's vars (an include's own among them) are exported too; its `env` wins.
  const env = Object.fromEntries(
    Object.entries({ ...vars, ...(interpolate(step.env ?? {}, scope) as Record<string, unknown>) }).map(([k, v]) => [k, envText(v)]),
  );
  const own = normalizeVerify(step.verify);
  if (step.uses) {
    const action = findAction(step.uses)!;
    // Secrets never reach `with`: they would be printed into shell text.
    const input = interpolate(step.with ?? {}, { ...scope, secrets: {} }) as Record<string, unknown>;
    const problems =
      request.validate && definition.with ? validateActionInput(definition.with.positions, step.uses, input, definition.with.at) : [];
    if (problems.length) throw new ExitError(ExitCode.usage, problems.map(formatDiagnostic).join('\n'));
    const expansion = action.expand(input, { runbook: plan.name, stepId: request.step.id, secrets: plan.secrets, rpo: plan.rpo });
    const requires = action.requires(input);
    const builtIn: ResolvedVerify = {
      run: expansion.verify.run,
      expect: expansion.verify.expect,
      retries: expansion.verify.retries ?? 0,
      intervalMs: parseDuration(expansion.verify.interval) ?? 1000,
      timeoutMs: parseDuration(expansion.verify.timeout),
    };
    return { shell: { run: expansion.run, verify: combineVerify(builtIn, own), env }, requires };
  }
  if (unverifiedKind(step)) {
    const { id, file, line, col } = request.step;
    const message = `step '${id}' has no verify`;
    throw new ExitError(ExitCode.usage, formatDiagnostic({ file, line, col, message, rule: 'missing-verify', severity: 'error' }));
  }
  return { shell: { run: step.run, verify: own!, env }, requires: [] };
};

/** The real shell of a step right before it runs (deferred steps get their outputs filled in). */
export const resolveStepShell = (plan: Plan, step: PlannedStep, outputs: Outputs, processEnv: ProcessEnv = process.env): StepShell => {
  if (!step.deferred || !step.definition) return { run: step.run, verify: step.verify, env: step.env };
  const steps = scopedOutputs(outputs, step.definition.prefix);
  return expandStep({ definition: step.definition, step, plan, processEnv, steps, validate: true }).shell;
};

/** Whether a step's `when` lets it run, given the outputs so far. */
export const evaluateWhen = (plan: Plan, step: PlannedStep, outputs: Outputs, processEnv: ProcessEnv = process.env): boolean => {
  if (step.when === undefined) return true;
  const prefix = step.id.includes('.') ? step.id.slice(0, step.id.lastIndexOf('.') + 1) : '';
  const scope: Scope = { vars: step.definition?.vars ?? plan.vars, secrets: {}, steps: scopedOutputs(outputs, prefix), env: processEnv };
  const text = step.when.trim();
  const found = findExpressions(text);
  const only = found[0];
  const value =
    only && found.length === 1 && only.start === 0 && only.end === text.length
      ? evaluate(parseExpression(only.source), scope)
      : interpolate(text, scope);
  return isTrue(value);
};

/**
 * `when` as far as it is known before the run: true or false when it reads no step outputs, undefined
 * when it does or cannot be evaluated (then the step counts as one that runs).
 */
export const decideWhenUpFront = (plan: Plan, step: PlannedStep, processEnv: ProcessEnv = process.env): boolean | undefined => {
  if (step.when === undefined) return true;
  if (/\bsteps\./.test(step.when)) return undefined;
  try {
    return evaluateWhen(plan, step, {}, processEnv);
  } catch {
    return undefined;
  }
};

/** Variables and secrets as the shell sees them: exported under their own names. */
export const stepEnvironment = (plan: Plan, secrets: Record<string, string>): Record<string, string> => ({
  ...Object.fromEntries(Object.entries(plan.vars).map(([name, value]) => [name, envText(value)])),
  ...secrets,
});
