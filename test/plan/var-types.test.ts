// `--var NAME=VALUE` gives text; a var whose default (or environment value) is a boolean, a number,
// a list or a map takes the value as that type, so `--var supabase_replace=true` reaches a boolean
// input as a boolean, and a value that is not of the type is a usage error before anything runs.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolvePlan } from '../../src/engine/resolve.js';
import { ExitCode, ExitError } from '../../src/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'runbook-var-types-'));
mkdirSync(join(dir, 'environments'));
writeFileSync(join(dir, 'environments', 'prod.yaml'), 'retries: 4\ntarget: { container: db, user: app }\n');
writeFileSync(
  join(dir, 'main.yaml'),
  `runbook: 1
name: types
vars:
  replace: false
  retries: 2
  target: { host: 127.0.0.1, port: 5432 }
  names: [a, b]
  label: "007"
steps:
  - id: show
    run: echo "$replace $retries $label"
    verify: "true"
`,
);

const varsOf = (vars: Record<string, string>, env?: string) => resolvePlan(join(dir, 'main.yaml'), { env, vars, processEnv: {} }).vars;

const usageErrorOf = (vars: Record<string, string>): ExitError => {
  try {
    varsOf(vars);
  } catch (error) {
    return error as ExitError;
  }
  throw new Error('no error');
};

describe('--var takes the type of the value it overrides', () => {
  it('booleans', () => {
    expect(varsOf({ replace: 'true' }).replace).toBe(true);
    expect(varsOf({ replace: 'false' }).replace).toBe(false);
  });

  it('numbers, also when the environment gave the number', () => {
    expect(varsOf({ retries: '7' }).retries).toBe(7);
    expect(varsOf({ retries: '9' }, 'prod').retries).toBe(9);
  });

  it('maps and lists, written in YAML flow or JSON', () => {
    expect(varsOf({ target: '{container: supabase-db, user: supabase_admin}' }).target).toEqual({
      container: 'supabase-db',
      user: 'supabase_admin',
    });
    expect(varsOf({ target: '{"host": "127.0.0.1", "port": 6543}' }, 'prod').target).toEqual({ host: '127.0.0.1', port: 6543 });
    expect(varsOf({ names: '[x, y, z]' }).names).toEqual(['x', 'y', 'z']);
  });

  it('text stays text, and a var the runbook does not declare stays text', () => {
    expect(varsOf({ label: '0042' }).label).toBe('0042');
    expect(varsOf({ other: 'true' }).other).toBe('true');
  });

  it('a value of another type is a usage error naming the var and the type', () => {
    for (const [vars, type] of [
      [{ replace: 'yes' }, 'true or false'],
      [{ retries: 'three' }, 'a number'],
      [{ target: 'supabase-db' }, 'a map'],
      [{ names: '{a: 1}' }, 'a list'],
      [{ target: '{unclosed' }, 'a map'],
    ] as const) {
      const error = usageErrorOf(vars);
      expect(error).toBeInstanceOf(ExitError);
      expect(error.code).toBe(ExitCode.usage);
      expect(error.message).toContain(`--var ${Object.keys(vars)[0]}`);
      expect(error.message).toContain(type);
    }
  });
});
