// A folder lints each of its files as a runbook of its own too: what `runbook lint FILE` finds in a
// file, `runbook lint FOLDER` finds as well, even when another file of the folder includes it with
// vars that would hide it. The shipped runbooks, and fixtures that show the difference.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lintPaths } from '../../src/lint/lint.js';
import type { Diagnostic } from '../../src/runbook/diagnostic.js';
import { expectBuilt, repository } from '../helpers/cli.js';

/** `runbook lint PATHS --format json` as CI runs it: the findings as `file:line:col: message [rule]`. */
const lintCli = (...paths: string[]): string[] => {
  const result = spawnSync(process.execPath, ['bin/runbook.js', 'lint', ...paths, '--format', 'json'], {
    cwd: repository,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1' },
  });
  expect(result.stderr).toBe('');
  return (JSON.parse(result.stdout) as Diagnostic[]).map((d) => `${d.file}:${d.line}:${d.col}: ${d.message} [${d.rule}]`);
};

describe('the shipped runbooks', () => {
  beforeAll(() => expectBuilt('cli/lint.js'));
  const files = readdirSync(join(repository, 'runbooks'))
    .filter((name) => name.endsWith('.yaml'))
    .sort();

  for (const name of files) it(`runbooks/${name} lints clean on its own`, () => expect(lintCli(`runbooks/${name}`)).toEqual([]));

  it('runbooks/ lints clean as a folder', () => expect(lintCli('runbooks/')).toEqual([]));

  it('the folder reports everything each file reports on its own', () => {
    const folder = new Set(lintCli('runbooks/'));
    const alone = files.flatMap((name) => lintCli(`runbooks/${name}`));
    expect(alone.filter((finding) => !folder.has(finding))).toEqual([]);
  });
});

describe('a file included by another file of the folder', () => {
  const fixture = resolve(import.meta.dirname, '../fixtures/lint/err/alone-only');
  const findings = async (...paths: string[]) =>
    (await lintPaths(paths, { shellcheck: false })).diagnostics.map(
      (d) => `${relative(fixture, resolve(d.file))}:${d.line}:${d.col} [${d.rule}]`,
    );
  const expected = ['part.yaml:11:19 [action-input]', 'part.yaml:13:15 [undefined-var]'];

  it('is clean through its includer, which passes the vars it lacks', async () => {
    expect(await findings(join(fixture, 'main.yaml'))).toEqual([]);
  });

  it('has findings of its own: an empty default for an action input, a var nothing declares', async () => {
    expect(await findings(join(fixture, 'part.yaml'))).toEqual(expected);
  });

  it('keeps those findings when linted in a folder, or beside its includer, in either order', async () => {
    expect(await findings(fixture)).toEqual(expected);
    expect(await findings(join(fixture, 'main.yaml'), join(fixture, 'part.yaml'))).toEqual(expected);
    expect(await findings(join(fixture, 'part.yaml'), join(fixture, 'main.yaml'))).toEqual(expected);
  });
});

describe('a file only included, by runbooks that pass it different vars', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'runbook-lint-alone-'));
    const includer = (name: string, vars: string) =>
      `runbook: 1\nname: ${name}\ninclude:\n  - path: shared.yaml\n    vars: { ${vars} }\nsteps:\n  - id: after\n    run: test -d /srv\n    verify: test -d /srv/data\n`;
    writeFileSync(join(dir, 'a.yaml'), includer('a', 'source: /srv/a, mode: fast'));
    writeFileSync(join(dir, 'b.yaml'), includer('b', 'source: /srv/b'));
    writeFileSync(
      join(dir, 'shared.yaml'),
      'runbook: 1\nname: shared\nsteps:\n  - id: copy\n    env: { SOURCE: "${{ vars.source }}", MODE: "${{ vars.mode }}" }\n    run: test -d "$SOURCE"\n    verify: test -n "$MODE"\n',
    );
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const vars = async (...names: string[]) =>
    (
      await lintPaths(
        names.map((name) => join(dir, name)),
        { shellcheck: false },
      )
    ).diagnostics
      .filter((d) => d.rule === 'undefined-var')
      .map((d) => d.message.slice(0, d.message.indexOf(' (')));

  it('reports, through the includers alone, a var one of them does not pass', async () => {
    expect(await vars('a.yaml')).toEqual([]);
    expect(await vars('b.yaml')).toEqual(["undefined variable 'vars.mode'"]);
    expect(await vars('a.yaml', 'b.yaml')).toEqual(["undefined variable 'vars.mode'"]);
  });

  it('reports every var it does not declare itself once the folder holds it', async () => {
    expect(await vars('shared.yaml')).toEqual(["undefined variable 'vars.source'", "undefined variable 'vars.mode'"]);
    expect(await vars('a.yaml', 'b.yaml', 'shared.yaml')).toEqual(["undefined variable 'vars.source'", "undefined variable 'vars.mode'"]);
  });
});
