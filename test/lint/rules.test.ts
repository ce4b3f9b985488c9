// Valid/invalid tables for rules where a fixture file per case would be clumsy, in eslint's manner:
// each invalid case names its expected line, column and message.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Action } from '../../src/actions/action.js';
import { parseCron, CronError, durationMinutes } from '../../src/lint/cron.js';
import { lintPaths } from '../../src/lint/lint.js';
import type { Rule } from '../../src/lint/rule.js';
import { rules } from '../../src/lint/rules/index.js';
import { createDestructiveAction } from '../../src/lint/rules/destructive-action.js';
import { findDestructive } from '../../src/lint/rules/destructive-shell.js';
import { whyCannotFail } from '../../src/lint/rules/trivial-verify.js';

const dir = mkdtempSync(join(tmpdir(), 'runbook-rules-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let counter = 0;

/** Lints one runbook text with one rule; returns `line:col: message`. */
const lintWith = async (rule: Rule, text: string): Promise<string[]> => {
  const file = join(dir, `case-${counter++}.yaml`);
  writeFileSync(file, text);
  const result = await lintPaths([file], { shellcheck: false, rules: [rule] });
  return result.diagnostics.map((d) => `${d.line}:${d.col}: ${d.message} [${d.rule}]`);
};

const ruleById = (id: string) => rules.find((r) => r.id === id)!;

describe('the registry', () => {
  it('is sorted by id, ids are kebab-case and unique', () => {
    const ids = rules.map((r) => r.id);
    expect(ids).toEqual([...ids].sort());
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toMatch(/^[a-z]+(-[a-z]+)*$/);
  });
});

describe('trivial-verify: whyCannotFail', () => {
  const cannotFail = [
    'true',
    ':',
    'exit 0',
    'exit',
    '/bin/true',
    '/usr/bin/true',
    'echo ok',
    'printf done',
    'true;',
    '# check\ntrue',
    'echo a\necho b',
    'grep -q x f || true',
    'test -e f || :',
    '',
  ];
  const canFail = [
    'test -e /x',
    'false',
    'grep -q ok /tmp/x',
    'true && test -e x',
    'curl -fsS http://127.0.0.1/',
    'echo ok\ntest -e x',
    'grep x f || true\ntest -e y',
    'echoes',
    'true_check',
  ];
  it.each(cannotFail)('%j cannot fail', (text) => expect(whyCannotFail(text, false)).toBeDefined());
  it.each(canFail)('%j can fail', (text) => expect(whyCannotFail(text, false)).toBeUndefined());
  it('echo can fail when its output must match expect; true still cannot', () => {
    expect(whyCannotFail('echo "$STATE"', true)).toBeUndefined();
    expect(whyCannotFail('true', true)).toBeDefined();
  });
});

describe('destructive-shell: findDestructive', () => {
  const destructive: [string, string][] = [
    ['dropdb app', 'dropdb'],
    ['psql -c "drop database app"', 'drop database'],
    ["psql -c 'TRUNCATE TABLE audit'", 'TRUNCATE TABLE a'],
    ['psql -c "DELETE FROM audit"', 'DELETE FROM'],
    ['rm -rf /srv/data', 'rm -rf'],
    ['rm -Rf /srv/data', 'rm -Rf'],
    ['rm -r -f /srv/data', 'rm -r -f'],
    ['rm --recursive --force /x', 'rm --recursive --force'],
    ['rclone --fast-list purge remote:old', 'rclone --fast-list purge'],
    ['rclone delete remote:x --min-age 30d', 'rclone delete'],
    ['mkfs -t ext4 /dev/sdb', 'mkfs'],
    ['dd if=/dev/zero of=/dev/sdb', 'dd if=/dev/zero of='],
    ['pg_restore -c -d app x.dump', 'pg_restore -c'],
    ['docker volume rm data', 'docker volume rm'],
    ['docker compose down -v', 'docker compose down -v'],
    ['wipefs -a /dev/sdb', 'wipefs'],
  ];
  const harmless = [
    'rm -f /tmp/x',
    'rm -r /tmp/x',
    'rclone copy a remote:b',
    'rclone sync /srv remote:backup',
    'pg_restore -d app x.dump',
    'dd if=/dev/sda bs=1M count=1 | sha256sum',
    'docker volume ls',
    'docker compose down',
    'echo dropdbs',
    'psql -c "select * from drops"',
  ];
  it.each(destructive)('%j is destructive (%s)', (text, command) => expect(findDestructive(text)?.command).toBe(command));
  it.each(harmless)('%j is not', (text) => expect(findDestructive(text)).toBeUndefined());
  it('points at the first destructive command', () => expect(findDestructive('cd /srv\nrm -rf x\ndropdb y')?.index).toBe(8));
});

describe('destructive-action', () => {
  // A test action standing in for the built-in restore until its real `destructive` lands.
  const restore: Action = {
    name: 'postgres.restore',
    description: '',
    verifies: '',
    requires: () => [],
    destructive: (input) => input.replace === true,
    expand: () => ({ run: '', verify: { run: '' } }),
  };
  const throwing: Action = {
    ...restore,
    destructive: () => {
      throw new Error('stub');
    },
  };
  const body = (extra: string) => `runbook: 1
name: r
steps:
  - id: restore
${extra}    uses: postgres.restore
    with: { target: { host: 127.0.0.1, port: 5432 }, database: app, from: /backups, replace: true }
`;
  it('reports a destructive action without confirm, at uses', async () => {
    expect(
      await lintWith(
        createDestructiveAction(() => restore),
        body(''),
      ),
    ).toEqual([`5:11: 'postgres.restore' destroys data with these inputs, but step 'restore' has no 'confirm' [destructive-action]`]);
  });
  it('accepts it with confirm', async () => {
    expect(
      await lintWith(
        createDestructiveAction(() => restore),
        body('    confirm: Replace the database?\n'),
      ),
    ).toEqual([]);
  });
  it('treats an action that throws as not destructive instead of crashing', async () => {
    expect(
      await lintWith(
        createDestructiveAction(() => throwing),
        body(''),
      ),
    ).toEqual([]);
  });
});

describe('backup-window-overlap: cron', () => {
  it('expands lists, ranges, steps and names', () => {
    expect(parseCron('*/20 1-3 * * mon-wed,fri')).toEqual({ minutes: [0, 20, 40], hours: [1, 2, 3], daysOfWeek: [1, 2, 3, 5] });
    expect(parseCron('5 4 * * 7').daysOfWeek).toEqual([0]);
    expect(parseCron('0 0 1 jan *').hours).toEqual([0]);
  });
  it.each([
    ['60 * * * *', `minute field '60' is out of range 0-59`],
    ['* * * *', 'expected 5 fields'],
    ['*/0 * * * *', 'invalid step'],
    ['5-1 * * * *', 'runs backwards'],
    ['a * * * *', 'is not a number'],
  ])('%j is refused', (expression, message) => {
    expect(() => parseCron(expression)).toThrow(CronError);
    expect(() => parseCron(expression)).toThrow(message);
  });
  it('reads durations as whole minutes', () => {
    expect([durationMinutes('30s'), durationMinutes('45m'), durationMinutes('2h'), durationMinutes('1d')]).toEqual([1, 45, 120, 1440]);
  });
  const backup = (name: string, schedule: string, window?: string) =>
    `runbook: 1\nname: ${name}\nkind: backup\nschedule: "${schedule}"\n${window ? `window: ${window}\n` : ''}steps:\n  - id: s\n    uses: files.backup\n    with: { source: /srv, to: /backup }\n`;
  const overlaps = async (a: string, b: string) => {
    const folder = mkdtempSync(join(dir, 'overlap-'));
    writeFileSync(join(folder, 'a.yaml'), a);
    writeFileSync(join(folder, 'b.yaml'), b);
    const result = await lintPaths([folder], { shellcheck: false, rules: [ruleById('backup-window-overlap')] });
    return result.diagnostics.map((d) => d.message);
  };
  it.each([
    ['back to back', backup('a', '0 2 * * *', '30m'), backup('b', '30 2 * * *'), 0],
    ['default window of 30m', backup('a', '0 2 * * *'), backup('b', '29 2 * * *'), 1],
    ['window past midnight', backup('a', '30 23 * * *', '1h'), backup('b', '15 0 * * *'), 1],
    ['different days', backup('a', '0 2 * * 1', '2h'), backup('b', '0 2 * * 2', '2h'), 0],
    ['Saturday into Sunday', backup('a', '0 23 * * 6', '2h'), backup('b', '30 0 * * 0'), 1],
    ['hourly against daily', backup('a', '10 * * * *', '5m'), backup('b', '0 3 * * *', '10m'), 0],
    ['hourly hits daily', backup('a', '10 * * * *', '5m'), backup('b', '0 3 * * *', '11m'), 1],
  ])('%s', async (_name, a, b, count) => {
    expect(await overlaps(a, b)).toHaveLength(count);
  });
});

describe('action-input', () => {
  it('checks a var default substituted into with, and names the var', async () => {
    const text = `runbook: 1
name: a
vars:
  port: 5432
  target: { host: 127.0.0.1, port: 5432 }
  broken: { host: 127.0.0.1 }
steps:
  - id: ok
    uses: postgres.dump
    with: { target: "\${{ vars.target }}", database: app, to: /backups }
  - id: bad
    uses: postgres.dump
    with: { target: "\${{ vars.broken }}", database: app, to: /backups }
`;
    const found = await lintWith(ruleById('action-input'), text);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(/^13:21: steps\[1\]\.with\.target .*\(with the default of 'vars\.broken'\) \[action-input\]$/);
  });
});

describe('undefined-var across includes', () => {
  it('accepts a var that every includer passes and refuses one that only some pass', async () => {
    const folder = mkdtempSync(join(dir, 'include-'));
    writeFileSync(
      join(folder, 'part.yaml'),
      'runbook: 1\nname: part\nsteps:\n  - id: s\n    uses: http.wait\n    with: { url: "${{ vars.url }}", status: "${{ vars.code }}" }\n',
    );
    writeFileSync(
      join(folder, 'one.yaml'),
      'runbook: 1\nname: one\ninclude:\n  - path: part.yaml\n    vars: { url: "http://127.0.0.1/", code: 200 }\nsteps:\n  - id: x\n    uses: http.wait\n    with: { url: "http://127.0.0.1/" }\n',
    );
    writeFileSync(
      join(folder, 'two.yaml'),
      'runbook: 1\nname: two\ninclude:\n  - path: part.yaml\n    vars: { url: "http://127.0.0.1/" }\nsteps:\n  - id: x\n    uses: http.wait\n    with: { url: "http://127.0.0.1/" }\n',
    );
    const result = await lintPaths([join(folder, 'one.yaml'), join(folder, 'two.yaml')], {
      shellcheck: false,
      rules: [ruleById('undefined-var')],
    });
    expect(result.diagnostics.map((d) => `${d.file.split('/').pop()}:${d.line}:${d.col}: ${d.message.split(' (')[0]}`)).toEqual([
      `part.yaml:6:50: undefined variable 'vars.code'`,
    ]);
  });
});

describe('step-output ordering', () => {
  it('a step without needs waits for the one before it, so it may read its outputs (transitively)', async () => {
    const text = `runbook: 1
name: o
steps:
  - id: a
    run: echo "x=1" >> "$RUNBOOK_OUTPUT"
    verify: grep -q x= "$RUNBOOK_OUTPUT"
  - id: b
    run: echo "y=1" >> "$RUNBOOK_OUTPUT"
    verify: grep -q y= "$RUNBOOK_OUTPUT"
  - id: c
    env: { X: "\${{ steps.a.outputs.x }}", Y: "\${{ steps.b.outputs.y }}" }
    run: test -n "$X$Y"
    verify: test -n "$X"
  - id: d
    needs: []
    env: { X: "\${{ steps.a.outputs.x }}" }
    run: test -n "$X"
    verify: test -n "$X"
`;
    expect(await lintWith(ruleById('step-output'), text)).toEqual([
      `16:20: 'steps.a.outputs.x' refers to step 'a', which step 'd' does not need; add 'a' to its 'needs' so that it runs first [step-output]`,
    ]);
  });
});
