// The validators are compiled from the JSON Schemas by the build (never committed); this checks
// the precompiled functions report errors the way ajv does.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { validators } from '../src/runbook/validators.generated.js';

describe('validators.generated.ts', () => {
  it('has a validator for every action schema, and each reports ajv-shaped errors', () => {
    const actions = readFileSync(new URL('../schemas/runbook.schema.json', import.meta.url), 'utf8');
    const names = (JSON.parse(actions) as { $defs: { actionName: { enum: string[] } } }).$defs.actionName.enum;
    expect(Object.keys(validators.actions).sort()).toEqual([...names].sort());
    const dump = validators.actions['postgres.dump']!;
    expect(dump({ database: 'app', to: 'remote:backups', surprise: 1 })).toBe(false);
    expect(dump.errors).toContainEqual(
      expect.objectContaining({
        instancePath: '',
        keyword: 'additionalProperties',
        schemaPath: '#/additionalProperties',
        params: { additionalProperty: 'surprise' },
      }),
    );
  });

  it('validates a runbook against the action inputs it references', () => {
    const { runbook } = validators;
    const step = { id: 'dump', uses: 'http.wait', with: { url: 'http://127.0.0.1:1/health' } };
    expect(runbook({ runbook: 1, name: 'ok', steps: [step] }), JSON.stringify(runbook.errors)).toBe(true);
    expect(runbook({ runbook: 1, name: 'bad', steps: [{ ...step, with: { url: 'x', nope: true } }] })).toBe(false);
    expect(runbook.errors?.some((e) => e.keyword === 'additionalProperties' && e.instancePath === '/steps/0/with')).toBe(true);
  });
});
