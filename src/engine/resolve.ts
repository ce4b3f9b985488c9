// One code path from a runbook file to the plan that `plan` prints and `exec` runs: includes
// composed, environment and --var applied, expressions resolved, built-in actions expanded.
import { definitionsText } from '../actions/library.js';
import { createHash } from 'node:crypto';
import { ExitError, ExitCode } from '../errors.js';
import { formatDiagnostic, hasErrors, type Diagnostic } from '../runbook/diagnostic.js';
import { parseDuration } from '../runbook/duration.js';
import { ExpressionError, findExpressions, interpolate, isTrue, parseExpression, type Scope } from '../runbook/expression.js';
import { positionOf } from '../runbook/load.js';
import { tabulatePositions } from '../runbook/positions.js';
import { loadTree, type LoadedRunbook, type SourceCache } from '../runbook/project.js';
import type { Runbook, Step } from '../runbook/schema.generated.js';
import { compose, diagnosticAt, type StepContext } from './compose.js';
import type { Plan, PlannedStep, StepDefinition, StepShell } from './plan-types.js';
import { expandStep, placeholderOutputs, refersToOutputs } from './step-shell.js';
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
  const environment = options.env ? loadEnvironment(file, options.env) : undefined;
  const rootVars = resolveRootVars({ file, defaults: runbook.vars ?? {}, files: tree.files, environment, vars: options.vars, processEnv });

  const composition = compose(tree.root, rootVars);
  const context: PlanningContext = {
    plan: { name: runbook.name, rpo: runbook.rpo, secrets: secretNames },
    processEnv,
    allIds: [...composition.contexts, ...composition.cleanup].map((c) => c.prefix + c.step.id),
    needs: composition.needs,
    requires: new Set<string>(['bash', ...collectFromTree(tree.files, (r) => r.requires)]),
    diagnostics: [...composition.diagnostics],
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
    hash: stepHash(stepContext, shell),
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
 * Covers the definition, the text it resolved to and the shell-library files that text runs with,
 * but not secret values: resume compares it.
 */
const stepHash = ({ step, prefix, vars }: StepContext, shell: StepShell): string =>
  sha256(
    JSON.stringify({
      step,
      prefix,
      run: shell.run,
      verify: shell.verify,
      envKeys: Object.keys(shell.env),
      vars: refersToVars(step) ? vars : undefined,
      library: definitionsText([shell.run ?? '', shell.verify.run]) || undefined,
    }),
  );

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

const refersToVars = (step: Step): boolean => /\$\{\{[^}]*\bvars\./.test(JSON.stringify(step));
