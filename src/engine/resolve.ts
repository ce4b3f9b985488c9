// One code path from a runbook file to the plan that `plan` prints and `exec` runs: includes
// composed, environment and --var applied, expressions resolved, built-in actions expanded.
import { definitionsText } from '../actions/library.js';
import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import { ExitError, ExitCode } from '../errors.js';
import { formatDiagnostic, hasErrors, type Diagnostic } from '../runbook/diagnostic.js';
import { parseDuration } from '../runbook/duration.js';
import { ExpressionError, findExpressions, interpolate, isTrue, parseExpression, referencesIn, type Scope } from '../runbook/expression.js';
import { positionOf } from '../runbook/load.js';
import { tabulatePositions } from '../runbook/positions.js';
import { loadTree, type LoadedRunbook, type SourceCache } from '../runbook/project.js';
import type { Runbook, Step } from '../runbook/schema.generated.js';
import { compose, diagnosticAt, type StepContext } from './compose.js';
import type { Plan, PlannedStep, StepDefinition, StepShell } from './plan-types.js';
import { expandStep, placeholderOutputs, refersToOutputs } from './step-shell.js';
import { collectRunInputs, secretIsSet, secretValuesOf, withoutSecretValues, type RunInputs } from './run-inputs.js';
import { loadEnvironment, resolveRootVars } from './vars.js';
import { registerSecrets } from './mask.js';

// report/docs.ts reads `when` through here (its import stays while that file is being rewritten).
export { evaluateWhen } from './step-shell.js';

export interface ResolveOptions {
  /** `--env NAME`: loads `environments/NAME.yaml` beside the runbook. */
  env?: string;
  /** `--var K=V`, applied last. */
  vars?: Record<string, string>;
  /** The environment the run sees (process env plus `--env-file`). @default process.env */
  processEnv?: Record<string, string | undefined>;
  /** Files lint already parsed and validated (exec lints first). @default a fresh cache */
  sources?: SourceCache;
  /** `--env-file` values (already in `processEnv`): steps read them, so they enter step identities. @default none */
  envFileValues?: Record<string, string>;
}

const fail = (diagnostics: Diagnostic[]): never => {
  throw new ExitError(ExitCode.usage, diagnostics.map(formatDiagnostic).join('\n'));
};

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

const collectFromTree = <T>(files: LoadedRunbook[], pick: (r: Runbook) => T[] | undefined): T[] => [
  ...new Set(files.flatMap((f) => (f.runbook ? (pick(f.runbook) ?? []) : []))),
];

/** What planning one step needs from the whole plan. */
interface PlanningContext {
  plan: Pick<Plan, 'name' | 'rpo' | 'secrets'>;
  processEnv: Record<string, string | undefined>;
  /** Every step id of the composition (cleanup included), for placeholder outputs. */
  allIds: string[];
  needs: Map<string, string[]>;
  /** Commands the plan's steps call; planning a step adds its action's. */
  requires: Set<string>;
  diagnostics: Diagnostic[];
  identity: IdentityContext;
}

/** What every step's identity covers besides the step itself. */
interface IdentityContext {
  inputs: RunInputs;
  /** Replaced by their names before hashing. */
  secretValues: Record<string, string>;
  processEnv: Record<string, string | undefined>;
}

/** Builds the plan, or throws ExitError(2) naming every problem with file:line:col. */
export const resolvePlan = (file: string, options: ResolveOptions = {}): Plan => {
  const processEnv = options.processEnv ?? process.env;
  const tree = loadTree(file, { sources: options.sources });
  if (hasErrors(tree.diagnostics)) fail(tree.diagnostics);
  const runbook = tree.root.runbook!;
  const secretNames = collectFromTree(tree.files, (r) => r.secrets);
  const secretValues = Object.fromEntries(
    secretNames.filter((name) => processEnv[name] !== undefined).map((name) => [name, processEnv[name]!]),
  );
  // Before anything below can quote a resolved value in an error (masked where it is printed).
  registerSecrets(Object.values(secretValues));
  const environment = options.env ? loadEnvironment(file, options.env, tree.repositoryRoot) : undefined;
  const rootVars = resolveRootVars({ file, defaults: runbook.vars ?? {}, files: tree.files, environment, vars: options.vars, processEnv });
  const inputs = collectRunInputs({
    environment: options.env,
    vars: rootVars,
    envFile: options.envFileValues,
    secrets: secretNames,
    processEnv,
  });

  const composition = compose(tree.root, rootVars);
  const context: PlanningContext = {
    plan: { name: runbook.name, rpo: runbook.rpo, secrets: secretNames },
    processEnv,
    allIds: [...composition.contexts, ...composition.cleanup].map((c) => c.prefix + c.step.id),
    needs: composition.needs,
    requires: new Set<string>(['bash', ...collectFromTree(tree.files, (r) => r.requires)]),
    diagnostics: [...composition.diagnostics],
    identity: { inputs, secretValues: secretValuesOf(secretNames, processEnv), processEnv },
  };
  const planAll = (contexts: StepContext[], cleanup: boolean) =>
    contexts.map((c) => planStep(context, c, cleanup)).filter((s): s is PlannedStep => s !== undefined);
  const steps = planAll(composition.contexts, false);
  const cleanup = planAll(composition.cleanup, true);
  if (context.diagnostics.length) fail(context.diagnostics);

  return {
    file,
    name: runbook.name,
    description: runbook.description,
    kind: runbook.kind ?? 'task',
    rto: runbook.rto,
    rpo: runbook.rpo,
    rtoMs: parseDuration(runbook.rto),
    rpoMs: parseDuration(runbook.rpo),
    contentHash: sha256(tree.files.map((f) => `${f.path}\n${f.source.text}`).join('\n\0')),
    sources: [...tree.files.map((f) => f.path), ...(environment ? [resolve(environment.path)] : [])],
    environment: options.env,
    protectedEnvironment: environment?.protected ?? false,
    vars: rootVars,
    secrets: secretNames,
    requires: [...context.requires],
    notify: runbook.notify
      ? resolveNotify(runbook.notify, { vars: rootVars, secrets: secretValues, steps: {}, env: processEnv })
      : undefined,
    steps,
    cleanup,
  };
};

/** One step of the plan; undefined (with a diagnostic) when an expression in it is broken. */
const planStep = (context: PlanningContext, stepContext: StepContext, cleanup: boolean): PlannedStep | undefined => {
  const { step, loaded, at, prefix, vars } = stepContext;
  const id = prefix + step.id;
  const where = { id, file: loaded.source.file, ...positionOf(loaded.source, at) };
  const definition: StepDefinition = { step, prefix, vars };
  if (step.uses) definition.with = { at: [...at, 'with'], positions: tabulatePositions(loaded.source, [...at, 'with']) };
  let shell: StepShell;
  let requires: string[] = [];
  try {
    // A step whose `when` is already false here (it reads no step outputs) never runs in this
    // environment: its inputs may be empty on purpose, so they are neither validated nor expanded.
    if (staticallySkipped(step, vars, context.processEnv)) shell = skippedShell(step);
    else {
      const steps = placeholderOutputs(context.allIds.filter((x) => x.startsWith(prefix)).map((x) => x.slice(prefix.length)));
      const validate = !refersToOutputs(step.with);
      const expanded = expandStep({ definition, step: where, plan: context.plan, processEnv: context.processEnv, steps, validate });
      for (const command of expanded.requires) context.requires.add(command);
      shell = expanded.shell;
      requires = step.uses ? expanded.requires : (loaded.runbook?.requires ?? []);
    }
  } catch (error) {
    if (!(error instanceof ExpressionError)) throw error;
    context.diagnostics.push(diagnosticAt(loaded, at, `step '${id}': ${error.message}`, 'expression'));
    return undefined;
  }
  checkWhen(context, stepContext, id);
  const deferred = refersToOutputs(step.with) || refersToOutputs(step.env);
  return {
    id,
    name: step.name ?? step.id,
    file: where.file,
    line: where.line,
    col: where.col,
    kind: step.uses ? 'uses' : step.manual ? 'manual' : 'run',
    uses: step.uses,
    manual: step.manual,
    ...shell,
    needs: context.needs.get(id) ?? [],
    when: step.when,
    timeoutMs: parseDuration(step.timeout),
    retries: step.retries ?? 0,
    confirm: step.confirm,
    continueOnError: step.continue_on_error ?? false,
    cleanup,
    requires: [...new Set(requires)],
    provides: step.provides ?? [],
    hash: stepHash(stepContext, shell, context.identity),
    deferred,
    definition,
  };
};

/** A `when` that does not parse is a finding now, not a failure in the middle of the run. */
const checkWhen = (context: PlanningContext, { step, loaded, at }: StepContext, id: string) => {
  if (step.when === undefined) return;
  try {
    for (const e of findExpressions(step.when)) parseExpression(e.source);
  } catch (error) {
    context.diagnostics.push(diagnosticAt(loaded, [...at, 'when'], `step '${id}': ${(error as Error).message}`, 'expression'));
  }
};

/**
 * A step's identity, which resume compares: its definition, the text it resolved to (its `env`
 * values included), the shell-library files that text runs with, the vars it sees, every input of
 * the run (environment name, vars, env file, which secrets are set) and the values of the
 * `${{ env.X }}` it reads. Secret values are replaced by their names before hashing.
 */
const stepHash = ({ step, prefix, vars }: StepContext, shell: StepShell, identity: IdentityContext): string =>
  sha256(
    withoutSecretValues(
      JSON.stringify({
        step,
        prefix,
        run: shell.run,
        verify: shell.verify,
        env: shell.env,
        vars,
        inputs: identity.inputs,
        envRead: environmentRead(step, identity),
        library: definitionsText([shell.run ?? '', shell.verify.run]) || undefined,
      }),
      identity.secretValues,
    ),
  );

/** The process environment's values a step's expressions read (`${{ env.X }}`); a secret's as whether it is set. */
const environmentRead = (step: Step, { processEnv, secretValues }: IdentityContext): Record<string, string | null> => {
  const names = new Set(referencesIn(step).flatMap((ref) => (ref.root === 'env' && ref.path[0] ? [ref.path[0]] : [])));
  return Object.fromEntries([...names].sort().map((name) => [name, name in secretValues ? secretIsSet : (processEnv[name] ?? null)]));
};

/** Notification targets with their expressions resolved; an empty URL means none. */
const resolveNotify = (notify: NonNullable<Runbook['notify']>, scope: Scope): Plan['notify'] => {
  const url = (value: string | undefined) => (value === undefined ? undefined : String(interpolate(value, scope) ?? '') || undefined);
  return { on: notify.on ?? ['failure'], ping: url(notify.ping), webhook: url(notify.webhook) };
};

const staticallySkipped = (step: Step, vars: Record<string, unknown>, env: Record<string, string | undefined>): boolean => {
  if (step.when === undefined || /\bsteps\./.test(step.when)) return false;
  try {
    return !isTrue(interpolate(step.when.trim(), { vars, secrets: {}, steps: {}, env }));
  } catch {
    return false;
  }
};

const skippedShell = (step: Step): StepShell => {
  const note = `# skipped: \`when: ${step.when}\` is false in this environment`;
  return { run: note, verify: { run: note, retries: 0, intervalMs: 1000 }, env: {} };
};
