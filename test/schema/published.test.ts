// Issue 15: the schema editors and CI tools read must agree with `runbook lint`. The published files
// are loaded from disk and checked by two independent JSON Schema 2020-12 implementations (ajv in
// strict mode with only ajv-formats, and @cfworker/json-schema) — no project code validates here.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Validator } from '@cfworker/json-schema';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { parse } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { lintPaths } from '../../src/lint/lint.js';

const root = resolve(import.meta.dirname, '../..');
const readJson = (path: string) => JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
const yamlIn = (dir: string) =>
  readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => join(dir, f));
/** YAML 1.2, as the tool and yaml-language-server read it. */
const readYaml = (path: string): unknown => parse(readFileSync(path, 'utf8'));

type Check = (document: unknown) => string[];
interface Implementation {
  name: string;
  compile: (schema: Record<string, unknown>, referenced: Record<string, unknown>[]) => Check;
}

const ajv: Implementation = {
  name: 'ajv (strict)',
  compile: (schema, referenced) => {
    const instance = new Ajv2020.default({ strict: true, allErrors: true });
    addFormats.default(instance);
    // Editor annotations (VS Code's markdownDescription) are known words, not validation keywords.
    instance.addVocabulary(['markdownDescription']);
    for (const s of referenced) instance.addSchema(s);
    const validate = instance.compile(schema);
    return (document) => (validate(document) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`));
  },
};

const cfworker: Implementation = {
  name: '@cfworker/json-schema',
  compile: (schema, referenced) => {
    const validator = new Validator(schema as never, '2020-12', false);
    for (const s of referenced) validator.addSchema(s as never);
    return (document) => {
      const result = validator.validate(document);
      return result.valid ? [] : result.errors.map((e) => `${e.instanceLocation} ${e.error}`);
    };
  },
};

const implementations = [ajv, cfworker];

/** The published files: runbook.schema.json with actions/*.schema.json, and environment.schema.json. */
const fromDisk = () => ({
  runbook: readJson(join(root, 'schemas/runbook.schema.json')),
  actions: readdirSync(join(root, 'schemas/actions'))
    .sort()
    .map((f) => readJson(join(root, 'schemas/actions', f))),
  environment: readJson(join(root, 'schemas/environment.schema.json')),
});

/** `runbook schema`: one self-contained document. */
const fromCommand = () => ({
  runbook: JSON.parse(execFileSync(process.execPath, [join(root, 'bin/runbook.js'), 'schema'], { encoding: 'utf8' })) as Record<
    string,
    unknown
  >,
  actions: [] as Record<string, unknown>[],
});

const shipped = yamlIn(join(root, 'runbooks'));
const environments = yamlIn(join(root, 'runbooks/environments'));
const okFixtures = yamlIn(join(root, 'test/fixtures/lint/ok'));
const errDir = join(root, 'test/fixtures/lint/err');
/** err fixtures with a finding of the schema itself in the file (not in a file it includes). */
const schemaErrFixtures = yamlIn(errDir).filter((file) =>
  readFileSync(file.replace(/\.yaml$/, '.out'), 'utf8')
    .split('\n')
    .some((line) => /^\d+:\d+: .*\[schema\]$/.test(line)),
);

const tmp = mkdtempSync(join(tmpdir(), 'schema15-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A one-step runbook around `step`, its vars declared without defaults (null: set by an environment). */
const runbookWith = (step: Record<string, unknown>, vars: string[] = []) => ({
  runbook: 1,
  name: 'case',
  ...(vars.length ? { vars: Object.fromEntries(vars.map((v) => [v, null])) } : {}),
  steps: [{ id: 'a', ...step }],
});

const uses = (action: string, input: unknown) => ({ uses: action, with: input });
const pg = { host: '127.0.0.1', port: 5432 };

/** Expressions in typed places the engine resolves (`with` at any depth): valid everywhere. */
const accepted: [string, Record<string, unknown>, string[]][] = [
  [
    'an object input (postgres.restore target)',
    uses('postgres.restore', { target: '${{ vars.db }}', database: 'app', from: '/b' }),
    ['db'],
  ],
  [
    'a patterned input (backup)',
    uses('postgres.restore', { target: pg, database: 'app', from: '/b', backup: '${{ vars.backup_id }}' }),
    ['backup_id'],
  ],
  [
    'an enum input (postgres.scratch engine)',
    uses('postgres.scratch', { name: 's', engine: '${{ vars.scratch_engine }}' }),
    ['scratch_engine'],
  ],
  ['an integer input (http.wait status)', uses('http.wait', { url: 'http://127.0.0.1/', status: '${{ vars.status }}' }), ['status']],
  ['a boolean input (retention.prune apply)', uses('retention.prune', { dest: '/b', apply: '${{ vars.apply }}' }), ['apply']],
  [
    'an integer with bounds (postgres.dump level)',
    uses('postgres.dump', { target: pg, database: 'a', to: '/b', level: '${{ vars.level }}' }),
    ['level'],
  ],
  [
    'a list input (dns.update records)',
    uses('dns.update', { provider: 'rfc2136', zone: 'z.', server: 'ns', records: '${{ vars.records }}' }),
    ['records'],
  ],
  [
    'an enum inside a list item (dns.update records[].type)',
    uses('dns.update', {
      provider: 'rfc2136',
      zone: 'z.',
      server: 'ns',
      records: [{ name: 'a', type: '${{ vars.type }}', value: '192.0.2.1' }],
    }),
    ['type'],
  ],
  ['a nested object (retention.prune keep)', uses('retention.prune', { dest: '/b', keep: '${{ vars.keep }}' }), ['keep']],
  [
    'a nested integer (retention.prune keep.daily)',
    uses('retention.prune', { dest: '/b', keep: { daily: '${{ vars.daily }}' } }),
    ['daily'],
  ],
  ['text around an expression in a patterned input', uses('postgres.scratch', { name: 'scratch-${{ vars.n }}' }), ['n']],
  ['a patterned duration input (http.wait timeout)', uses('http.wait', { url: 'http://127.0.0.1/', timeout: '${{ vars.t }}' }), ['t']],
  [
    'a step output in a target port',
    uses('postgres.restore', { target: { host: 'h', port: '${{ steps.a.outputs.port }}' }, database: 'a', from: '/b' }),
    [],
  ],
  ['env values and when', { run: 'test -n "$X"', verify: 'test -n "$X"', env: { X: '${{ vars.x }}' }, when: "${{ vars.x != '' }}" }, ['x']],
];

/** Literal mistakes (lint rejects them today) and expressions where nothing resolves them. */
const rejected: [string, Record<string, unknown>, string[]][] = [
  ['a literal outside an enum (engine: dockr)', uses('postgres.scratch', { name: 's', engine: 'dockr' }), []],
  [
    'a literal not matching a pattern (backup: yesterday)',
    uses('postgres.restore', { target: pg, database: 'a', from: '/b', backup: 'yesterday' }),
    [],
  ],
  ['a string for an integer (status: ok)', uses('http.wait', { url: 'http://127.0.0.1/', status: 'ok' }), []],
  ['an integer out of bounds (level: 42)', uses('postgres.dump', { target: pg, database: 'a', to: '/b', level: 42 }), []],
  [
    'an unknown record type inside a list',
    uses('dns.update', { provider: 'rfc2136', zone: 'z.', records: [{ name: 'a', type: 'SRV', value: 'x' }] }),
    [],
  ],
  ['an unknown input holding an expression', uses('http.wait', { url: 'http://127.0.0.1/', surprise: '${{ vars.x }}' }), ['x']],
  ['a missing required input', uses('postgres.dump', { target: pg, database: 'a' }), []],
  ['an expression as the whole with', uses('http.wait', '${{ vars.w }}'), ['w']],
  ['an expression in timeout (not resolved)', { run: 'x', verify: 'test -e x', timeout: '${{ vars.t }}' }, ['t']],
  ['an expression in retries (not resolved)', { run: 'x', verify: 'test -e x', retries: '${{ vars.n }}' }, ['n']],
  ['an expression in uses (not resolved)', { uses: '${{ vars.action }}', with: {} }, ['action']],
  ['an expression in verify.interval (not resolved)', { run: 'x', verify: { run: 'test -e x', interval: '${{ vars.i }}' } }, ['i']],
  ['an expression as the step id', { id: '${{ vars.id }}', run: 'x', verify: 'test -e x' }, ['id']],
];

const schemaFindings = async (document: unknown, name: string) => {
  const file = join(tmp, `${name.replace(/[^a-z0-9]+/gi, '-')}.yaml`);
  writeFileSync(file, JSON.stringify(document));
  const result = await lintPaths([file], { shellcheck: false });
  return result.diagnostics.filter((d) => d.rule === 'schema' || d.rule === 'action-input').map((d) => `${d.line}:${d.col}: ${d.message}`);
};

for (const [label, load] of [
  ['the published files', fromDisk],
  ['`runbook schema`', fromCommand],
] as const) {
  describe(`${label}`, () => {
    const schemas = load();
    for (const implementation of implementations) {
      describe(implementation.name, () => {
        // Compiled on first use, so that a schema the implementation refuses fails each test, not the file.
        let compiled: Check | undefined;
        const check: Check = (document) => (compiled ??= implementation.compile(schemas.runbook, schemas.actions))(document);
        it.each(shipped.map((f) => [f.slice(root.length + 1)]))('accepts the shipped %s', (file) => {
          expect(check(readYaml(join(root, file)))).toEqual([]);
        });
        it.each(okFixtures.map((f) => [f.slice(root.length + 1)]))('accepts the ok fixture %s', (file) => {
          expect(check(readYaml(join(root, file)))).toEqual([]);
        });
        it.each(schemaErrFixtures.map((f) => [f.slice(root.length + 1)]))('rejects the err fixture %s', (file) => {
          expect(check(readYaml(join(root, file)))).not.toEqual([]);
        });
        it.each(accepted)('accepts an expression in %s', (_label, step, vars) => {
          expect(check(runbookWith(step, vars))).toEqual([]);
        });
        it.each(rejected)('rejects %s', (_label, step, vars) => {
          expect(check(runbookWith(step, vars))).not.toEqual([]);
        });
        if ('environment' in schemas) {
          let compiledEnvironment: Check | undefined;
          const environment: Check = (document) =>
            (compiledEnvironment ??= implementation.compile(schemas.environment as Record<string, unknown>, []))(document);
          it.each(environments.map((f) => [f.slice(root.length + 1)]))('accepts the environment %s', (file) => {
            expect(environment(readYaml(join(root, file)))).toEqual([]);
          });
        }
      });
    }
  });
}

describe('runbook lint agrees with the published schema', () => {
  it('has schema err fixtures to check', () => expect(schemaErrFixtures.length).toBeGreaterThan(8));
  it.each(accepted)('finds nothing for an expression in %s', async (label, step, vars) => {
    expect(await schemaFindings(runbookWith(step, vars), label)).toEqual([]);
  });
  it.each(rejected)('rejects %s', async (label, step, vars) => {
    expect(await schemaFindings(runbookWith(step, vars), label)).not.toEqual([]);
  });
});

describe('values the schema cannot see are still checked once known', () => {
  const scratch = (engine: unknown) => ({
    ...runbookWith(uses('postgres.scratch', { name: 's', engine: '${{ vars.engine }}' })),
    vars: { engine },
  });
  it('lint checks an input with the default of the var it reads', async () => {
    expect(await schemaFindings(scratch('dockr'), 'default-dockr')).toEqual([
      expect.stringMatching(
        /: steps\[0\]\.with\.engine must be one of docker, initdb; got 'dockr' \(with the default of 'vars\.engine'\)$/,
      ),
    ]);
  });
  it('plan checks the resolved input (--var) and exits 2', async () => {
    const file = join(tmp, 'resolved.yaml');
    writeFileSync(file, JSON.stringify(scratch(null), null, 1));
    const { resolvePlan } = await import('../../src/engine/resolve.js');
    expect(() => resolvePlan(file, { vars: { engine: 'docker' } })).not.toThrow();
    expect(() => resolvePlan(file, { vars: { engine: 'dockr' } })).toThrow(
      expect.objectContaining({ code: 2, message: expect.stringContaining("must be one of docker, initdb; got 'dockr'") }),
    );
  });
});
