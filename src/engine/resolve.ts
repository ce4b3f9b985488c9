// One code path from a runbook file to the plan that `plan` prints and `exec` runs: includes
// composed, environment and --var applied, expressions resolved, built-in actions expanded.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { findAction } from '../actions/index.js';
import { ExitError, ExitCode, usageError } from '../errors.js';
import { formatDiagnostic, hasErrors, type Diagnostic } from '../runbook/diagnostic.js';
import { parseDuration } from '../runbook/duration.js';
import { ExpressionError, evaluate, findExpressions, interpolate, isTrue, parseExpression, type Scope } from '../runbook/expression.js';
import { loadSource, positionOf, type NodePath } from '../runbook/load.js';
import { loadTree, type LoadedRunbook, type SourceCache } from '../runbook/project.js';
import type { Runbook, Step, Verify } from '../runbook/schema.generated.js';
import { validateActionInput, validateEnvironment } from '../runbook/validate.js';
import type { Plan, PlannedStep, ResolvedVerify, StepShell } from './plan-types.js';

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

/** Step outputs so far, by full step id. */
export type Outputs = Record<string, Record<string, string>>;

interface StepContext {
  loaded: LoadedRunbook;
  /** Path of the step in its file, e.g. ['steps', 3]. */
  at: NodePath;
  step: Step;
  /** `INCLUDE.` prefix of its ids, '' for the root. */
  prefix: string;
  vars: Record<string, unknown>;
}

/** How to re-resolve a deferred step once the outputs it refers to exist. */
const resolvers = new WeakMap<PlannedStep, (outputs: Outputs) => StepShell>();
/** The vars a step sees (an included runbook's own among them), for its `when`. */
const stepVars = new WeakMap<PlannedStep, Record<string, unknown>>();

const fail = (diagnostics: Diagnostic[]): never => {
  throw new ExitError(ExitCode.usage, diagnostics.map(formatDiagnostic).join('\n'));
};

const diagnosticAt = (loaded: LoadedRunbook, at: NodePath, message: string, rule: string): Diagnostic => ({
  file: loaded.source.file,
  ...positionOf(loaded.source, at),
  message,
  rule,
  severity: 'error',
});

/** Parses `K=V` arguments of `--var`. */
export const parseVarArguments = (pairs: readonly string[]): Record<string, string> =>
  Object.fromEntries(
    pairs.map((pair) => {
      const match = /^([A-Za-z_][A-Za-z0-9_]*)=([\s\S]*)$/.exec(pair);
      if (!match) throw usageError(`--var expects NAME=VALUE, got '${pair}'`);
      return [match[1]!, match[2]!];
    }),
  );

/** Reads `environments/NAME.yaml` beside the runbook. */
export const loadEnvironment = (file: string, name: string): { vars: Record<string, unknown>; protected: boolean; path: string } => {
  if (!/^[A-Za-z0-9_-]+$/.test(name)) throw usageError(`--env expects a name like production or staging, got '${name}'`);
  const path = join(dirname(file), 'environments', `${name}.yaml`);
  if (!existsSync(path)) throw usageError(`environment '${name}' not found: ${path} does not exist`);
  const source = loadSource(path);
  const diagnostics = [...source.diagnostics, ...validateEnvironment(source)];
  if (hasErrors(diagnostics)) fail(diagnostics);
  const { protected: isProtected, ...vars } = (source.value ?? {}) as Record<string, unknown>;
  return { vars, protected: isProtected === true, path };
};

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

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

/** Outputs of steps as one included runbook sees them: its own ids, without the prefix. */
const scopedOutputs = (outputs: Outputs, prefix: string): Scope['steps'] =>
  Object.fromEntries(
    Object.entries(outputs)
      .filter(([id]) => id.startsWith(prefix) && !id.slice(prefix.length).includes('.'))
      .map(([id, values]) => [id.slice(prefix.length), { outputs: values }]),
  );

/** Outputs that are not known yet, shown as the expression that will fill them. */
const placeholderOutputs = (stepIds: readonly string[]): Scope['steps'] =>
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

const refersToOutputs = (value: unknown): boolean => {
  const text = JSON.stringify(value ?? null);
  return text.includes('steps.') && findExpressions(text).some((e) => /\bsteps\./.test(e.source));
};

interface Composition {
  contexts: StepContext[];
  cleanup: StepContext[];
  /** Implicit and explicit dependencies, by full id. */
  needs: Map<string, string[]>;
  diagnostics: Diagnostic[];
}

/**
 * Flattens the include tree into one ordered list. Includes come first, in order, then the
 * runbook's own steps. A step without `needs` waits for the step before it; an include's first
 * step waits for the include's `needs` (when given) instead. `INCLUDE` alone in `needs` means
 * every step of that include.
 */
const compose = (root: LoadedRunbook, rootVars: Record<string, unknown>): Composition => {
  const contexts: StepContext[] = [];
  const cleanup: StepContext[] = [];
  const diagnostics: Diagnostic[] = [];
  const groups = new Map<string, string[]>();
  type Needs = string[] | { refs: readonly string[]; prefix: string; loaded: LoadedRunbook; at: NodePath };
  const raw = new Map<string, Needs>();

  const walk = (loaded: LoadedRunbook, prefix: string, vars: Record<string, unknown>, entryNeeds: Needs | undefined): string[] => {
    const runbook = loaded.runbook!;
    const own: string[] = [];
    let previous: Needs =
      entryNeeds ?? (contexts.length ? [contexts[contexts.length - 1]!.prefix + contexts[contexts.length - 1]!.step.id] : []);
    for (const edge of loaded.includes) {
      if (!edge.target?.runbook) continue;
      const childVars = { ...(edge.target.runbook.vars ?? {}), ...vars, ...edge.vars };
      const edgeNeeds: Needs = edge.needs.length ? { refs: edge.needs, prefix, loaded, at: ['include', edge.index, 'needs'] } : previous;
      const ids = walk(edge.target, `${prefix}${edge.id}.`, childVars, edgeNeeds);
      groups.set(prefix + edge.id, ids);
      own.push(...ids);
      if (ids.length) previous = [ids[ids.length - 1]!];
    }
    runbook.steps.forEach((step, index) => {
      const full = prefix + step.id;
      raw.set(full, step.needs !== undefined ? { refs: step.needs, prefix, loaded, at: ['steps', index, 'needs'] } : previous);
      contexts.push({ loaded, at: ['steps', index], step, prefix, vars });
      own.push(full);
      previous = [full];
    });
    (runbook.cleanup ?? []).forEach((step, index) => {
      cleanup.push({ loaded, at: ['cleanup', index], step, prefix, vars });
      raw.set(prefix + step.id, []);
    });
    return own;
  };
  walk(root, '', rootVars, []);

  const known = new Set(contexts.map((c) => c.prefix + c.step.id));
  const needs = new Map<string, string[]>();
  for (const [id, value] of raw) {
    if (Array.isArray(value)) {
      needs.set(id, value);
      continue;
    }
    needs.set(
      id,
      value.refs.flatMap((ref, index) => {
        const full = value.prefix + ref;
        if (groups.has(full)) return groups.get(full)!;
        if (known.has(full)) return [full];
        diagnostics.push(
          diagnosticAt(value.loaded, [...value.at, index], `needs '${ref}', which is neither a step nor an include`, 'unknown-needs'),
        );
        return [];
      }),
    );
  }
  return { contexts: orderByNeeds(contexts, needs, diagnostics), cleanup, needs, diagnostics };
};

/** File order, except that a step never comes before what it needs; a cycle is reported. */
const orderByNeeds = (contexts: StepContext[], needs: Map<string, string[]>, diagnostics: Diagnostic[]): StepContext[] => {
  const ordered: StepContext[] = [];
  const done = new Set<string>();
  const pending = [...contexts];
  while (pending.length) {
    const index = pending.findIndex((c) => (needs.get(c.prefix + c.step.id) ?? []).every((n) => done.has(n)));
    if (index < 0) {
      const first = pending[0]!;
      const cycle = findCycle(first.prefix + first.step.id, needs);
      diagnostics.push(diagnosticAt(first.loaded, first.at, `dependency cycle: ${cycle.join(' -> ')}`, 'needs-cycle'));
      return [...ordered, ...pending];
    }
    const [next] = pending.splice(index, 1);
    ordered.push(next!);
    done.add(next!.prefix + next!.step.id);
  }
  return ordered;
};

const findCycle = (start: string, needs: Map<string, string[]>): string[] => {
  const path: string[] = [];
  const visit = (id: string): string[] | undefined => {
    const at = path.indexOf(id);
    if (at >= 0) return [...path.slice(at), id];
    path.push(id);
    for (const next of needs.get(id) ?? []) {
      const found = visit(next);
      if (found) return found;
    }
    path.pop();
    return undefined;
  };
  return visit(start) ?? [start];
};

const collectFromTree = <T>(files: LoadedRunbook[], pick: (r: Runbook) => T[] | undefined): T[] => [
  ...new Set(files.flatMap((f) => (f.runbook ? (pick(f.runbook) ?? []) : []))),
];

/** Builds the plan, or throws ExitError(2) naming every problem with file:line:col. */
export const resolvePlan = (file: string, options: ResolveOptions = {}): Plan => {
  const processEnv = options.processEnv ?? process.env;
  const tree = loadTree(file, { sources: options.sources });
  if (hasErrors(tree.diagnostics)) fail(tree.diagnostics);
  const root = tree.root;
  const runbook = root.runbook!;

  const environment = options.env ? loadEnvironment(file, options.env) : undefined;
  const envScope: Scope = { vars: {}, secrets: {}, steps: {}, env: processEnv };
  const resolveVarValues = (values: Record<string, unknown>, where: string) => {
    try {
      return interpolate(values, envScope) as Record<string, unknown>;
    } catch (error) {
      throw usageError(`${where}: ${(error as Error).message} (vars may refer to env.NAME only)`);
    }
  };
  // One environment file serves many runbooks: only the vars this runbook (or an include) declares
  // are taken from it, so a value another runbook needs cannot break or leak into this one.
  const declared = new Set(tree.files.flatMap((f) => Object.keys(f.runbook?.vars ?? {})));
  const environmentVars = Object.fromEntries(Object.entries(environment?.vars ?? {}).filter(([name]) => declared.has(name)));
  const rootVars = {
    ...resolveVarValues(runbook.vars ?? {}, file),
    ...(environment ? resolveVarValues(environmentVars, environment.path) : {}),
    ...(options.vars ?? {}),
  };

  const secretNames = collectFromTree(tree.files, (r) => r.secrets);
  const secretValues = Object.fromEntries(
    secretNames.filter((name) => processEnv[name] !== undefined).map((name) => [name, processEnv[name]!]),
  );

  const composition = compose(root, rootVars);
  const diagnostics = [...composition.diagnostics];
  const requires = new Set<string>(['bash', ...collectFromTree(tree.files, (r) => r.requires)]);
  const allIds = [...composition.contexts, ...composition.cleanup].map((c) => c.prefix + c.step.id);

  const plan = (context: StepContext, cleanupStep: boolean): PlannedStep | undefined => {
    const { step, loaded, at, prefix, vars } = context;
    const id = prefix + step.id;
    const shellFor = (outputs: Outputs | undefined): StepShell => {
      const steps = outputs
        ? scopedOutputs(outputs, prefix)
        : placeholderOutputs(allIds.filter((x) => x.startsWith(prefix)).map((x) => x.slice(prefix.length)));
      const scope: Scope = { vars, secrets: secretValues, steps, env: processEnv };
      const withoutSecrets: Scope = { ...scope, secrets: {} };
      // The step's vars (an include's own among them) are exported too; its `env` wins.
      const env = Object.fromEntries(
        Object.entries({ ...vars, ...(interpolate(step.env ?? {}, scope) as Record<string, unknown>) }).map(([k, v]) => [k, envText(v)]),
      );
      const own = normalizeVerify(step.verify);
      if (step.uses) {
        const action = findAction(step.uses)!;
        // Secrets never reach `with`: they would be printed into shell text.
        const input = interpolate(step.with ?? {}, withoutSecrets) as Record<string, unknown>;
        const problems =
          outputs || !refersToOutputs(step.with) ? validateActionInput(loaded.source, step.uses, input, [...at, 'with']) : [];
        if (problems.length) fail(problems);
        const expansion = action.expand(input, { runbook: runbook.name, stepId: id, secrets: secretNames, rpo: runbook.rpo });
        for (const command of action.requires(input)) requires.add(command);
        const builtIn: ResolvedVerify = {
          run: expansion.verify.run,
          expect: expansion.verify.expect,
          retries: expansion.verify.retries ?? 0,
          intervalMs: parseDuration(expansion.verify.interval) ?? 1000,
          timeoutMs: parseDuration(expansion.verify.timeout),
        };
        return { run: expansion.run, verify: combineVerify(builtIn, own), env };
      }
      if (!own)
        throw new ExitError(ExitCode.usage, formatDiagnostic(diagnosticAt(loaded, at, `step '${id}' has no verify`, 'missing-verify')));
      return { run: step.run, verify: own, env };
    };

    let shell: StepShell;
    try {
      // A step whose `when` is already false here (it reads no step outputs) never runs in this
      // environment: its inputs may be empty on purpose, so they are neither validated nor expanded.
      shell = staticallySkipped(step, vars, processEnv) ? skippedShell(step) : shellFor(undefined);
    } catch (error) {
      if (error instanceof ExpressionError) {
        diagnostics.push(diagnosticAt(loaded, at, `step '${id}': ${error.message}`, 'expression'));
        return undefined;
      }
      throw error;
    }
    if (step.when !== undefined) {
      try {
        const found = findExpressions(step.when);
        for (const e of found) parseExpression(e.source);
      } catch (error) {
        diagnostics.push(diagnosticAt(loaded, [...at, 'when'], `step '${id}': ${(error as Error).message}`, 'expression'));
      }
    }
    const deferred = refersToOutputs(step.with) || refersToOutputs(step.env);
    const planned: PlannedStep = {
      id,
      name: step.name ?? step.id,
      file: loaded.source.file,
      ...positionOf(loaded.source, at),
      kind: step.uses ? 'uses' : step.manual ? 'manual' : 'run',
      uses: step.uses,
      manual: step.manual,
      ...shell,
      needs: composition.needs.get(id) ?? [],
      when: step.when,
      timeoutMs: parseDuration(step.timeout),
      retries: step.retries ?? 0,
      confirm: step.confirm,
      continueOnError: step.continue_on_error ?? false,
      cleanup: cleanupStep,
      hash: '',
      deferred,
    };
    // The hash covers the definition and the text it resolved to, but not secret values.
    planned.hash = sha256(
      JSON.stringify({
        step,
        prefix,
        run: shell.run,
        verify: shell.verify,
        envKeys: Object.keys(shell.env),
        vars: refersToVars(step) ? vars : undefined,
      }),
    );
    if (deferred) resolvers.set(planned, (outputs) => shellFor(outputs));
    stepVars.set(planned, vars);
    return planned;
  };

  const steps = composition.contexts.map((c) => plan(c, false)).filter((s): s is PlannedStep => s !== undefined);
  const cleanup = composition.cleanup.map((c) => plan(c, true)).filter((s): s is PlannedStep => s !== undefined);
  if (diagnostics.length) fail(diagnostics);

  const contentHash = sha256(tree.files.map((f) => `${f.path}\n${f.source.text}`).join('\n\0'));
  return {
    file,
    name: runbook.name,
    description: runbook.description,
    kind: runbook.kind ?? 'task',
    rto: runbook.rto,
    rpo: runbook.rpo,
    rtoMs: parseDuration(runbook.rto),
    rpoMs: parseDuration(runbook.rpo),
    contentHash,
    environment: options.env,
    protectedEnvironment: environment?.protected ?? false,
    vars: rootVars,
    secrets: secretNames,
    requires: [...requires],
    notify: runbook.notify
      ? resolveNotify(runbook.notify, { vars: rootVars, secrets: secretValues, steps: {}, env: processEnv })
      : undefined,
    steps,
    cleanup,
  };
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

const refersToVars = (step: Step): boolean => /\$\{\{[^}]*\bvars\./.test(JSON.stringify(step));

/** The real shell of a step right before it runs (deferred steps get their outputs filled in). */
export const resolveStepShell = (_plan: Plan, step: PlannedStep, outputs: Outputs): StepShell => {
  const resolve = resolvers.get(step);
  return resolve ? resolve(outputs) : { run: step.run, verify: step.verify, env: step.env };
};

/** Whether a step's `when` lets it run, given the outputs so far. */
export const evaluateWhen = (
  plan: Plan,
  step: PlannedStep,
  outputs: Outputs,
  processEnv: Record<string, string | undefined> = process.env,
): boolean => {
  if (step.when === undefined) return true;
  const prefix = step.id.includes('.') ? step.id.slice(0, step.id.lastIndexOf('.') + 1) : '';
  const scope: Scope = { vars: stepVars.get(step) ?? plan.vars, secrets: {}, steps: scopedOutputs(outputs, prefix), env: processEnv };
  const text = step.when.trim();
  const found = findExpressions(text);
  const only = found[0];
  const value =
    only && found.length === 1 && only.start === 0 && only.end === text.length
      ? evaluate(parseExpression(only.source), scope)
      : interpolate(text, scope);
  return isTrue(value);
};

/** Variables and secrets as the shell sees them: exported under their own names. */
export const stepEnvironment = (plan: Plan, secrets: Record<string, string>): Record<string, string> => ({
  ...Object.fromEntries(Object.entries(plan.vars).map(([name, value]) => [name, envText(value)])),
  ...secrets,
});
