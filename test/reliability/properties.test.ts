// Guarantee 8, by property: the loader and the expression language never throw anything but their
// own errors, whatever the input, and every finding is positioned.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseSource } from '../../src/runbook/load.js';
import { ExpressionError, evaluate, findExpressions, interpolate, parseExpression, type Scope } from '../../src/runbook/expression.js';

const scope: Scope = {
  vars: { db: 'app', target: { host: '127.0.0.1', port: 5432 }, list: ['a', 'b'], n: 3, flag: true },
  secrets: { PW: 'hunter22' },
  steps: { dump: { outputs: { backup: '2026-11-25T020000Z' } } },
  env: { HOME: '/root', EMPTY: '' },
};

/** YAML-ish text: fragments that exercise the parser's corners, glued at random. */
const yamlish = fc
  .array(
    fc.oneof(
      fc.constantFrom(
        'runbook: 1\n',
        'name: x\n',
        'steps:\n',
        '  - id: a\n',
        '    run: echo hi\n',
        '    verify: test -e x\n',
        '%YAML 1.1\n',
        '---\n',
        '...\n',
      ),
      fc.constantFrom(
        '&a ',
        '*a',
        '<<: ',
        '!!str ',
        '!tag ',
        '{',
        '}',
        '[',
        ']',
        ': ',
        '- ',
        '? ',
        '|',
        '>',
        '"',
        "'",
        '#',
        '\t',
        '\r\n',
        '\n',
        '  ',
        '0755',
        'no',
        '${{ vars.db }}',
        '\u0000',
        '\uFEFF',
        '\uD800',
      ),
      fc.string({ maxLength: 12 }),
    ),
    { maxLength: 40 },
  )
  .map((parts) => parts.join(''));

const exprish = fc
  .array(
    fc.oneof(
      fc.constantFrom('vars', 'secrets', 'steps', 'env', '.', 'db', 'target', 'port', 'dump', 'outputs', 'backup', 'PW', 'HOME'),
      fc.constantFrom(
        '==',
        '!=',
        '&&',
        '||',
        '!',
        '(',
        ')',
        ',',
        "'x'",
        '"y"',
        '1',
        '2.5',
        'true',
        'false',
        'null',
        'contains',
        'startsWith',
        'endsWith',
        ' ',
        "'it''s'",
        '"\\"',
      ),
      fc.string({ maxLength: 6 }),
    ),
    { maxLength: 16 },
  )
  .map((parts) => parts.join(''));

const onlyExpressionErrors = (run: () => unknown) => {
  try {
    run();
  } catch (error) {
    if (!(error instanceof ExpressionError)) throw error;
    expect(Number.isInteger(error.offset) && error.offset >= 0).toBe(true);
  }
};

describe('properties', () => {
  it('parseSource never throws; every diagnostic has line >= 1 and col >= 1', () => {
    fc.assert(
      fc.property(fc.oneof(yamlish, fc.string({ maxLength: 200 }), fc.string({ unit: 'binary', maxLength: 100 })), (text) => {
        const source = parseSource('x.yaml', text);
        for (const d of source.diagnostics) {
          expect(d.line).toBeGreaterThanOrEqual(1);
          expect(d.col).toBeGreaterThanOrEqual(1);
          expect(d.file).toBe('x.yaml');
          expect(typeof d.message).toBe('string');
        }
      }),
      { numRuns: 1500 },
    );
  });

  it('parseExpression and evaluate return or throw ExpressionError, nothing else', () => {
    fc.assert(
      fc.property(fc.oneof(exprish, fc.string({ maxLength: 30 })), (source) => {
        onlyExpressionErrors(() => evaluate(parseExpression(source), scope));
      }),
      { numRuns: 3000 },
    );
  });

  it('findExpressions and interpolate return or throw ExpressionError on any text', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.constant('${{'), fc.constant('}}'), exprish, fc.string({ maxLength: 8 })), { maxLength: 8 }),
        (parts) => {
          const text = parts.join('');
          onlyExpressionErrors(() => findExpressions(text));
          onlyExpressionErrors(() => interpolate({ a: [text], b: text }, scope));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('interpolate is the identity on values without ${{', () => {
    const plain = fc.string().filter((s) => !s.includes('${{'));
    fc.assert(
      fc.property(
        fc.oneof(plain, fc.dictionary(plain, fc.oneof(plain, fc.integer(), fc.boolean(), fc.constant(null), fc.array(plain)))),
        (value) => {
          expect(interpolate(value, scope)).toEqual(value);
        },
      ),
      { numRuns: 2000 },
    );
  });
});
