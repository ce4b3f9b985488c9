// Fixtures as data, the actionlint way: ok/*.yaml lint clean; err/NAME.yaml (or the folder
// err/NAME/) gives exactly the findings listed in err/NAME.out, one per line, exact or /regex/.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Diagnostic } from '../../src/runbook/diagnostic.js';
import { lintPaths } from '../../src/lint/lint.js';

const root = resolve(import.meta.dirname, '../fixtures/lint');
const okDir = join(root, 'ok');
const errDir = join(root, 'err');

try {
  execFileSync('shellcheck', ['--version'], { stdio: 'ignore' });
} catch {
  throw new Error('shellcheck is not installed: the fixtures check its findings too (apt-get install shellcheck)');
}

/** `LINE:COL: message [rule]` for the fixture itself, `path:LINE:COL: …` for other files. */
const render = (d: Diagnostic, fixture: string): string => {
  const file = resolve(d.file) === resolve(fixture) ? '' : `${relative(errDir, resolve(d.file))}:`;
  return `${file}${d.line}:${d.col}: ${d.severity === 'warning' ? 'warning: ' : ''}${d.message} [${d.rule}]`;
};

const matches = (expected: string, actual: string): boolean =>
  expected.length > 2 && expected.startsWith('/') && expected.endsWith('/')
    ? new RegExp(expected.slice(1, -1)).test(actual)
    : expected === actual;

/** Pairs expected lines with findings; what is left on either side is a failure. */
const compare = (expected: string[], actual: string[]) => {
  const missing = [...expected];
  const unexpected: string[] = [];
  for (const line of actual) {
    const i = missing.findIndex((e) => matches(e, line));
    if (i >= 0) missing.splice(i, 1);
    else unexpected.push(line);
  }
  return { missing, unexpected };
};

describe('ok fixtures', () => {
  const files = readdirSync(okDir).filter((f) => f.endsWith('.yaml'));
  it('has fixtures', () => expect(files.length).toBeGreaterThan(0));
  it('lint clean together (and so without overlapping backup windows)', async () => {
    const result = await lintPaths([okDir], { shellcheck: true });
    expect(result.shellcheck.status).toBe('ran');
    expect(result.diagnostics.map((d) => render(d, ''))).toEqual([]);
  });
});

describe('err fixtures', () => {
  const cases = readdirSync(errDir)
    .filter((f) => f.endsWith('.out'))
    .map((f) => f.replace(/\.out$/, ''))
    .sort();
  it('every err fixture has its .out and every .out its fixture', () => {
    const inputs = readdirSync(errDir).filter((f) => f.endsWith('.yaml') || (statSync(join(errDir, f)).isDirectory() && f !== 'includes'));
    expect(inputs.map((f) => f.replace(/\.yaml$/, '')).sort()).toEqual(cases);
  });
  for (const name of cases) {
    it(name, async () => {
      const yaml = join(errDir, `${name}.yaml`);
      const target = existsSync(yaml) ? yaml : join(errDir, name);
      const expected = readFileSync(join(errDir, `${name}.out`), 'utf8')
        .split('\n')
        .filter((l) => l.trim() !== '');
      expect(expected.length, 'an err fixture expects at least one finding').toBeGreaterThan(0);
      const result = await lintPaths([relative(process.cwd(), target)], { shellcheck: true });
      const actual = result.diagnostics.map((d) => render(d, target));
      expect(compare(expected, actual)).toEqual({ missing: [], unexpected: [] });
    });
  }
});
