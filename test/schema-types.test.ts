// The TypeScript types are generated from the JSON Schemas; this fails when they drift apart.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
// @ts-expect-error — a plain .mjs script without types
import { generatedPath, renderTypes } from '../scripts/gen-types.mjs';

describe('schema.generated.ts', () => {
  it('equals what `npm run gen:types` makes from schemas/', async () => {
    const committed = readFileSync(generatedPath, 'utf8');
    expect(committed, 'run `npm run gen:types` and commit the result').toBe(await renderTypes());
  });
});
