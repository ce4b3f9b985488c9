// The inputs of a run as resume compares them: secret values never enter a digest, and every
// difference is named.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { collectRunInputs, inputDifferences, recordInputs, withoutSecretValues } from '../../src/engine/run-inputs.js';

const secret = 'pa"ss\nword-9f3k';
const processEnv = { DB_PASSWORD: secret };
const inputs = (vars: Record<string, unknown>, envFile: Record<string, string> = {}, environment?: string) =>
  collectRunInputs({ environment, vars, envFile, secrets: ['DB_PASSWORD'], processEnv });

describe('run inputs', () => {
  it('replaces every secret value in JSON text by its name, escaped forms included', () => {
    const json = JSON.stringify({ url: `postgresql://app:${secret}@db/app` });
    expect(withoutSecretValues(json, processEnv)).toBe(JSON.stringify({ url: 'postgresql://app:<secret DB_PASSWORD>@db/app' }));
  });

  it('keeps declared secrets out of the env file map, and digests no secret value', () => {
    const now = inputs({ dsn: `user:${secret}` }, { DB_PASSWORD: secret, MODE: 'one' });
    expect(now.envFile).toEqual({ MODE: 'one' });
    expect(now.secrets).toEqual(['DB_PASSWORD']);
    const recorded = recordInputs(now, processEnv, 'salt');
    const leaked = createHash('sha256')
      .update(`salt\0${JSON.stringify(`user:${secret}`)}`)
      .digest('hex');
    expect(recorded.vars.dsn).not.toBe(leaked);
    expect(JSON.stringify(recorded)).not.toContain('9f3k');
    // A rotated secret is the same input: only whether it is set counts.
    expect(inputDifferences(recorded, inputs({ dsn: 'user:other-value' }, { MODE: 'one' }), { DB_PASSWORD: 'other-value' })).toEqual([]);
  });

  it('names each difference: environment, vars, env file values, secrets', () => {
    const before = recordInputs(inputs({ a: 1, b: 'x' }, { MODE: 'one', GONE: 'y' }, 'staging'), processEnv);
    const after = collectRunInputs({
      environment: 'production',
      vars: { a: 2, b: 'x', c: true },
      envFile: { MODE: 'two', NEW: 'z' },
      secrets: ['DB_PASSWORD'],
      processEnv: {},
    });
    expect(inputDifferences(before, after, {})).toEqual([
      "the environment was 'staging' and is 'production' now",
      "var 'a' changed",
      "var 'c' was not set and is now",
      "env file value 'GONE' was set and is not now",
      "env file value 'MODE' changed",
      "env file value 'NEW' was not set and is now",
      "secret 'DB_PASSWORD' was set and is not now",
    ]);
  });
});
