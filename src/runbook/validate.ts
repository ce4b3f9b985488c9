// Schema validation with ajv, with each failure turned into one positioned sentence instead of
// ajv's raw dump. The validators are compiled at build time (scripts/build-validators.mjs): compiling
// the schemas at run time cost ~165 ms of every `runbook lint`.
import type { ErrorObject } from 'ajv';
import { maskKnown } from '../engine/mask.js';
import { actionSchemaNames, schemaText } from '../package/files.js';
import type { Diagnostic } from './diagnostic.js';
import { positionOf, type NodePath, type SourceFile } from './load.js';
import { positionInTable, type PositionTable } from './positions.js';
import { validators } from './validators.generated.js';

const readSchema = (relative: string) => JSON.parse(schemaText(relative)) as Record<string, unknown>;

/** `steps[2].verify.retries`, the way a person names a place in the file. */
export const describePath = (path: NodePath): string =>
  path.reduce<string>(
    (text, segment) => (typeof segment === 'number' ? `${text}[${segment}]` : text ? `${text}.${segment}` : segment),
    '',
  ) || 'the runbook';

const toPath = (pointer: string): (string | number)[] =>
  pointer === ''
    ? []
    : pointer
        .slice(1)
        .split('/')
        .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
        .map((s) => (/^\d+$/.test(s) ? Number(s) : s));

const typeName = (value: unknown): string =>
  value === null ? 'null' : Array.isArray(value) ? 'a list' : typeof value === 'object' ? 'a mapping' : typeof value;

/** A value quoted in a message: masked before it is cut, so the cut cannot keep part of a secret. */
const show = (value: unknown): string => {
  if (typeof value !== 'string') return JSON.stringify(value) ?? String(value);
  const text = maskKnown(value);
  return `'${text.length > 40 ? text.slice(0, 40) + '…' : text}'`;
};

const valueAt = (data: unknown, path: NodePath): unknown =>
  path.reduce<unknown>((v, k) => (v as Record<string | number, unknown> | undefined)?.[k], data);

const hasExpression = (value: unknown): boolean => typeof value === 'string' && value.includes('${{');

/** A value check failed on an expression: said where the field takes none, so the cause is plain. */
const unresolvedNote = (value: unknown): string =>
  hasExpression(value) ? '. note that ${{ … }} is resolved only in the values of with and env, in when, notify and vars' : '';

interface Finding {
  path: NodePath;
  key?: boolean;
  message: string;
}

const describeError = (error: ErrorObject, data: unknown, at: NodePath): Finding => {
  const path = toPath(error.instancePath);
  const where = describePath([...at, ...path]);
  const value = valueAt(data, path);
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'additionalProperties': {
      const key = String(params.additionalProperty);
      return { path: [...path, key], key: true, message: `unknown key '${key}' in ${where}` };
    }
    case 'required':
      return { path, message: `${where} is missing the required key '${String(params.missingProperty)}'` };
    case 'type':
      return {
        path,
        message: `${where} must be ${String(params.type).replace(/,/g, ' or ')}, got ${typeName(value)}${unresolvedNote(value)}`,
      };
    case 'enum':
      return {
        path,
        message: `${where} must be one of ${(params.allowedValues as unknown[]).map((v) => String(v)).join(', ')}; got ${show(value)}${unresolvedNote(value)}`,
      };
    case 'const':
      return { path, message: `${where} must be ${JSON.stringify(params.allowedValue)}, got ${show(value)}${unresolvedNote(value)}` };
    case 'pattern':
      if (error.schemaPath.includes('timeout') || /^\^0\*\[1-9\]/.test(String(params.pattern))) {
        return {
          path,
          message: `${where} must be a duration greater than zero like 30s, 10m or 2h; got ${show(value)}${unresolvedNote(value)}`,
        };
      }
      if (error.schemaPath.includes('duration') || /^\^\[0-9\]\+\(ms/.test(String(params.pattern))) {
        return { path, message: `${where} must be a duration like 30s, 10m or 2h; got ${show(value)}${unresolvedNote(value)}` };
      }
      return {
        path,
        message: `${where} has an invalid value ${show(value)} (expected to match ${String(params.pattern)})${unresolvedNote(value)}`,
      };
    case 'minItems':
      return { path, message: `${where} must have at least ${String(params.limit)} item(s)` };
    case 'minLength':
      return { path, message: `${where} must not be empty` };
    case 'uniqueItems':
      return { path, message: `${where} lists the same item twice (items ${String(params.j)} and ${String(params.i)})` };
    case 'minimum':
    case 'maximum':
      return {
        path,
        message: `${where} must be ${error.keyword === 'minimum' ? 'at least' : 'at most'} ${String(params.limit)}, got ${show(value)}`,
      };
    case 'propertyNames':
      return { path, message: `${where} has a key that is not a valid name (letters, digits and _; not starting with a digit)` };
    default:
      return { path, message: `${where} ${error.message ?? 'is invalid'}` };
  }
};

const stepShape = (value: unknown): string | undefined => {
  if (!value || typeof value !== 'object') return undefined;
  const kinds = ['run', 'uses', 'manual'].filter((k) => k in (value as object));
  if (kinds.length === 0) return 'needs one of run, uses or manual';
  if (kinds.length > 1) return `has ${kinds.join(' and ')}; a step takes exactly one of run, uses or manual`;
  if ('with' in (value as object) && kinds[0] !== 'uses') return `has 'with' but no 'uses'; inputs belong to a built-in action`;
  return undefined;
};

/**
 * Ajv reports every failed branch of a oneOf. The branches' discriminators (a missing key, a wrong
 * type, a key that must be absent) say nothing to a person: drop them, keep the deeper findings,
 * and say in one sentence what was expected when nothing deeper explains the failure.
 */
const collapseOneOf = (all: ErrorObject[], data: unknown, at: NodePath): Finding[] => {
  const oneOfs = all.filter((e) => e.keyword === 'oneOf');
  // Of branches defined inline, only the closest one (fewest errors) speaks.
  const dropped = new Set<ErrorObject>();
  for (const o of oneOfs) {
    const branches = new Map<string, ErrorObject[]>();
    for (const e of all) {
      const branch =
        e !== o && e.instancePath.startsWith(o.instancePath) ? e.schemaPath.slice(o.schemaPath.length).match(/^\/(\d+)\//)?.[1] : undefined;
      if (branch !== undefined && e.schemaPath.startsWith(o.schemaPath)) branches.set(branch, [...(branches.get(branch) ?? []), e]);
    }
    const sizes = [...branches.values()].map((list) => list.length);
    const best = [...branches.values()].filter((list) => list.length === Math.min(...sizes));
    if (best.length === 1) for (const list of branches.values()) if (list !== best[0]) list.forEach((e) => dropped.add(e));
  }
  const errors = all.filter((e) => !dropped.has(e));
  const discriminators = new Set(['required', 'type', 'not']);
  const isDiscriminator = (e: ErrorObject) =>
    discriminators.has(e.keyword) && /\/oneOf\/\d+\/[^/]+$/.test(e.schemaPath) && oneOfs.some((o) => o.instancePath === e.instancePath);
  const kept = errors.filter((e) => e.keyword !== 'oneOf' && e.keyword !== 'if' && !isDiscriminator(e));
  const findings: Finding[] = kept.map((e) => describeError(e, data, at));
  for (const o of oneOfs) {
    const path = toPath(o.instancePath);
    const where = describePath([...at, ...path]);
    const value = valueAt(data, path);
    const shape = value && typeof value === 'object' && 'id' in value ? stepShape(value) : undefined;
    if (shape) {
      findings.push({ path, message: `${where} ${shape}` });
      continue;
    }
    if (kept.some((e) => e.instancePath.startsWith(o.instancePath))) continue;
    const alternatives = new Map<string, string[]>();
    for (const e of errors) {
      const branch =
        e.instancePath === o.instancePath && e.keyword === 'required' ? e.schemaPath.match(/\/oneOf\/(\d+)\/required$/)?.[1] : undefined;
      if (branch !== undefined)
        alternatives.set(branch, [
          ...(alternatives.get(branch) ?? []),
          `'${String((e.params as { missingProperty: string }).missingProperty)}'`,
        ]);
    }
    const needs = [...alternatives.values()].map((keys) => keys.join(' and ')).join('; or ');
    findings.push({ path, message: needs ? `${where} needs ${needs}` : `${where} has an invalid value ${show(value)}` });
  }
  return findings;
};

/** Errors of the published schema's `${{ … }}` alternative (schemas/source/ has none). */
const isExpressionBranch = (error: ErrorObject) => /\/\$defs\/expression(\/|$)/.test(error.schemaPath);

/**
 * The published schema writes `anyOf: [the value as written, an expression]` and union types as
 * `anyOf` of single types: a person wants to hear what the value as written must be, once. Drops the
 * expression alternative's errors and the anyOf itself, and merges the type errors of one anyOf.
 */
const collapseAnyOf = (all: ErrorObject[]): ErrorObject[] => {
  const anyOfs = all.filter((e) => e.keyword === 'anyOf');
  const merged = new Map<ErrorObject, ErrorObject>();
  const dropped = new Set<ErrorObject>(all.filter((e) => isExpressionBranch(e) || e.keyword === 'anyOf'));
  for (const o of anyOfs) {
    const types = all.filter(
      (e) =>
        e.keyword === 'type' &&
        !dropped.has(e) &&
        e.instancePath === o.instancePath &&
        e.schemaPath.startsWith(`${o.schemaPath}/`) &&
        /^\/\d+\/type$/.test(e.schemaPath.slice(o.schemaPath.length)),
    );
    if (types.length < 2) continue;
    const type = types.map((e) => String((e.params as { type: string }).type)).join(',');
    types.slice(1).forEach((e) => dropped.add(e));
    merged.set(types[0]!, { ...types[0]!, params: { type } });
  }
  return all.filter((e) => !dropped.has(e)).map((e) => merged.get(e) ?? e);
};

export interface ValidateOptions {
  /**
   * Drop errors about values holding `${{ … }}` (action inputs checked before they are resolved).
   * Runbooks need no such filter: their schema says itself where expressions go.
   */
  allowExpressions?: boolean;
  /** Path of `data` inside the source (for `with` validated separately). */
  at?: NodePath;
}

/** Where findings point: a parsed file, or the plain table of positions a plan carries. */
type Positions = SourceFile | PositionTable;

const locate = (where: Positions, path: NodePath, options: { key?: boolean }) =>
  'doc' in where ? positionOf(where, path, options) : positionInTable(where, path, options);

const toDiagnostics = (
  source: Positions,
  errors: ErrorObject[] | null | undefined,
  data: unknown,
  options: ValidateOptions,
): Diagnostic[] => {
  const seen = new Set<string>();
  const out: Diagnostic[] = [];
  const at = options.at ?? [];
  for (const f of collapseOneOf(collapseAnyOf(errors ?? []), data, at)) {
    if (options.allowExpressions && f.path.some((_, i) => hasExpression(valueAt(data, f.path.slice(0, i + 1))))) continue;
    const path = [...at, ...f.path];
    const message = f.message;
    const pos = locate(source, path, { key: f.key });
    const key = `${pos.line}:${pos.col}:${message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ file: source.file, ...pos, message, rule: 'schema', severity: 'error' });
  }
  return out;
};

/**
 * Validates a whole runbook document against schemas/runbook.schema.json — the published file that
 * editors and CI tools read, so lint and they agree; it takes expressions exactly where the engine
 * resolves them.
 */
export const validateRunbook = (source: SourceFile): Diagnostic[] => {
  const { runbook } = validators;
  if (source.value === undefined) return [];
  if (source.value === null || typeof source.value !== 'object' || Array.isArray(source.value)) {
    return [
      {
        file: source.file,
        ...positionOf(source, []),
        message: `a runbook must be a mapping, got ${typeName(source.value)}`,
        rule: 'schema',
        severity: 'error',
      },
    ];
  }
  return runbook(source.value) ? [] : toDiagnostics(source, runbook.errors, source.value, {});
};

/** Validates an environment file (environments/NAME.yaml). */
export const validateEnvironment = (source: SourceFile): Diagnostic[] => {
  const { environment } = validators;
  if (source.value === undefined) return [];
  return environment(source.value) ? [] : toDiagnostics(source, environment.errors, source.value, {});
};

/** Validates resolved action inputs; `at` names where `with` sits in the file. */
export const validateActionInput = (
  source: Positions,
  action: string,
  input: unknown,
  at: NodePath,
  options: ValidateOptions = {},
): Diagnostic[] => {
  const validate = validators.actions[action];
  if (!validate) return [];
  if (validate(input)) return [];
  return toDiagnostics(source, validate.errors, input, { ...options, at });
};

/** The schema as `runbook schema` prints it: self-contained, action inputs inlined under $defs. */
export const bundledSchema = (): Record<string, unknown> => {
  const bundle = readSchema('runbook.schema.json') as { $defs: Record<string, unknown> };
  for (const file of actionSchemaNames()) {
    const { $schema: _s, $id: _i, ...rest } = readSchema(`actions/${file}`);
    bundle.$defs[`action:${file.replace('.schema.json', '')}`] = rest;
  }
  const text = JSON.stringify(bundle).replace(/"actions\/([a-z.]+)\.schema\.json"/g, (_m, name: string) =>
    JSON.stringify(`#/$defs/action:${name}`),
  );
  return JSON.parse(text) as Record<string, unknown>;
};
