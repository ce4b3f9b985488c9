// Where a run's vars come from: the runbook's defaults, then `--env NAME`'s environment file, then
// `--var K=V`. Vars may read `${{ env.NAME }}`; nothing else is known this early.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parse } from 'yaml';
import { ExitCode, ExitError, usageError } from '../errors.js';
import { formatDiagnostic, hasErrors } from '../runbook/diagnostic.js';
import { interpolate, type Scope } from '../runbook/expression.js';
import { escapeOf } from '../runbook/inside-repository.js';
import { loadSource, refusedSource } from '../runbook/load.js';
import { findRepositoryRoot, outsideMessage, type LoadedRunbook } from '../runbook/project.js';
import { validateEnvironment } from '../runbook/validate.js';

/** An environment file (`environments/NAME.yaml`), read. */
export interface Environment {
  vars: Record<string, unknown>;
  protected: boolean;
  path: string;
}

/** Parses `K=V` arguments of `--var`. */
export const parseVarArguments = (pairs: readonly string[]): Record<string, string> =>
  Object.fromEntries(
    pairs.map((pair) => {
      const match = /^([A-Za-z_][A-Za-z0-9_]*)=([\s\S]*)$/.exec(pair);
      if (!match) throw usageError(`--var expects NAME=VALUE, got '${pair}'`);
      return [match[1]!, match[2]!];
    }),
  );

/**
 * Reads `environments/NAME.yaml` beside the runbook; refuses one that a symbolic link (the file, or
 * `environments/` itself) leads out of `repositoryRoot`.
 */
export const loadEnvironment = (file: string, name: string, repositoryRoot = findRepositoryRoot(file)): Environment => {
  if (!/^[A-Za-z0-9_-]+$/.test(name)) throw usageError(`--env expects a name like production or staging, got '${name}'`);
  const path = join(dirname(file), 'environments', `${name}.yaml`);
  if (!existsSync(path)) throw usageError(`environment '${name}' not found: ${path} does not exist`);
  const escape = escapeOf(repositoryRoot, path);
  const source = escape ? refusedSource(path, outsideMessage('the environment file', escape), 'outside-repository') : loadSource(path);
  const diagnostics = [...source.diagnostics, ...validateEnvironment(source)];
  if (hasErrors(diagnostics)) throw new ExitError(ExitCode.usage, diagnostics.map(formatDiagnostic).join('\n'));
  const { protected: isProtected, ...vars } = (source.value ?? {}) as Record<string, unknown>;
  return { vars, protected: isProtected === true, path };
};

/** What {@link resolveRootVars} combines. */
export interface VarSources {
  /** The runbook file as given, and its own vars' defaults. */
  file: string;
  defaults: Record<string, unknown>;
  /** Every file of the include tree: only vars one of them declares are taken from the environment. */
  files: readonly LoadedRunbook[];
  environment?: Environment;
  /** `--var K=V`. */
  vars?: Record<string, string>;
  processEnv: Record<string, string | undefined>;
}

/** The root runbook's vars: defaults, then the environment file's, then `--var`. */
export const resolveRootVars = (sources: VarSources): Record<string, unknown> => {
  const { environment } = sources;
  const envScope: Scope = { vars: {}, secrets: {}, steps: {}, env: sources.processEnv };
  const resolveValues = (values: Record<string, unknown>, where: string) => {
    try {
      return interpolate(values, envScope) as Record<string, unknown>;
    } catch (error) {
      throw usageError(`${where}: ${(error as Error).message} (vars may refer to env.NAME only)`);
    }
  };
  // One environment file serves many runbooks: only the vars this runbook (or an include) declares
  // are taken from it, so a value another runbook needs cannot break or leak into this one.
  const declared = new Set(sources.files.flatMap((f) => Object.keys(f.runbook?.vars ?? {})));
  const environmentVars = Object.fromEntries(Object.entries(environment?.vars ?? {}).filter(([name]) => declared.has(name)));
  const base = {
    ...resolveValues(sources.defaults, sources.file),
    ...(environment ? resolveValues(environmentVars, environment.path) : {}),
  };
  const overrides = Object.entries(sources.vars ?? {}).map(([name, text]) => [name, typedVar(name, text, base[name])]);
  return { ...base, ...Object.fromEntries(overrides) };
};

/**
 * A `--var` value as the type of the value it overrides: `true`/`false` for a boolean, a number for a
 * number, YAML flow or JSON for a map or a list; text otherwise (and for vars nothing declares), so
 * a typed action input gets the type its schema wants and a mistyped value stops the run before it
 * starts.
 */
const typedVar = (name: string, text: string, current: unknown): unknown => {
  const refuse = (type: string): never => {
    throw usageError(`--var ${name}=${text}: expected ${type}, as its value ${JSON.stringify(current)} is`);
  };
  if (typeof current === 'boolean') return text === 'true' ? true : text === 'false' ? false : refuse('true or false');
  if (typeof current === 'number') return text.trim() !== '' && Number.isFinite(Number(text)) ? Number(text) : refuse('a number');
  if (current === null || typeof current !== 'object') return text;
  const type = Array.isArray(current) ? 'a list' : 'a map';
  let value: unknown;
  try {
    value = parse(text);
  } catch {
    return refuse(`${type} (YAML flow or JSON)`);
  }
  const matches = Array.isArray(current) ? Array.isArray(value) : value !== null && typeof value === 'object' && !Array.isArray(value);
  return matches ? value : refuse(`${type} (YAML flow or JSON)`);
};
