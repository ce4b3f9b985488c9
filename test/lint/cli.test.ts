// `runbook lint` as a user runs it: the built CLI on fixture files, its formats and exit codes.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const repo = resolve(import.meta.dirname, '../..');
if (!existsSync(join(repo, 'dist/cli/index.js'))) throw new Error('dist/ is missing: run `npm run build` first');
const err = 'test/fixtures/lint/err';
const dir = mkdtempSync(join(tmpdir(), 'runbook-lint-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const lint = (...args: string[]) => {
  const result = spawnSync(process.execPath, ['bin/runbook.js', 'lint', ...args], {
    cwd: repo,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1' },
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
};

describe('runbook lint', () => {
  it('pretty: file:line:col, the source line, a caret under the column, a summary', () => {
    const { code, stdout } = lint(`${err}/missing-rto.yaml`, '--no-shellcheck');
    expect(code).toBe(1);
    expect(stdout).toBe(
      [
        `${err}/missing-rto.yaml:3:7: recovery runbook 'missing-rto' has no 'rto'. note that drills compare the total time against it, e.g. rto: 2h [missing-rto]`,
        '  |',
        '3 | kind: recovery',
        '  |       ^',
        '',
        '1 error, 0 warnings in 1 file',
        '',
      ].join('\n'),
    );
    expect(stdout).not.toMatch(/\x1b\[/);
  });

  it('json: an array of findings', () => {
    const { code, stdout } = lint(`${err}/duplicate-step-id.yaml`, '--format', 'json', '--no-shellcheck');
    expect(code).toBe(1);
    expect(JSON.parse(stdout)).toEqual([
      expect.objectContaining({ file: `${err}/duplicate-step-id.yaml`, line: 7, col: 9, rule: 'duplicate-step-id', severity: 'error' }),
      expect.objectContaining({ line: 11, col: 9, rule: 'duplicate-step-id' }),
    ]);
  });

  it('github: workflow commands with escaped properties', () => {
    const { code, stdout } = lint(`${err}/missing-timeout.yaml`, `${err}/missing-rto.yaml`, '--format', 'github', '--no-shellcheck');
    expect(code).toBe(1);
    const lines = stdout.trim().split('\n');
    expect(lines).toContain(
      `::error file=${err}/missing-rto.yaml,line=3,col=7,title=missing-rto::recovery runbook 'missing-rto' has no 'rto'. note that drills compare the total time against it, e.g. rto: 2h`,
    );
    expect(lines.filter((l) => l.startsWith('::warning file=') && l.includes('title=missing-timeout::'))).toHaveLength(3);
  });

  it('warnings alone exit 0, and 1 with --strict', () => {
    const file = join(dir, 'warn.yaml');
    writeFileSync(
      file,
      'runbook: 1\nname: warn\nkind: recovery\nrto: 1h\nsteps:\n  - id: a\n    run: systemctl start a\n    verify: systemctl is-active a\n',
    );
    expect(lint(file, '--no-shellcheck').code).toBe(0);
    expect(lint(file, '--no-shellcheck', '--strict').code).toBe(1);
  });

  it('an invalid runbook exits 2 even next to lint errors', () => {
    expect(lint(`${err}/schema-unknown-key.yaml`, `${err}/missing-rto.yaml`, '--no-shellcheck').code).toBe(2);
  });

  it('a folder: its YAML files and environments/*.yaml (checked against the environment schema)', () => {
    const folder = join(dir, 'runbooks');
    spawnSync('mkdir', ['-p', join(folder, 'environments')]);
    writeFileSync(
      join(folder, 'a.yaml'),
      'runbook: 1\nname: a\nsteps:\n  - id: a\n    run: systemctl start a\n    verify: systemctl is-active a\n',
    );
    writeFileSync(join(folder, 'environments', 'staging.yaml'), 'protected: maybe\n');
    const { code, stdout } = lint(folder, '--no-shellcheck', '--format', 'json');
    expect(code).toBe(2);
    expect(JSON.parse(stdout)).toEqual([
      expect.objectContaining({ file: join(folder, 'environments', 'staging.yaml'), line: 1, col: 12, rule: 'schema' }),
    ]);
  });

  it('a clean folder exits 0', () => {
    const { code, stdout } = lint('test/fixtures/lint/ok');
    expect(stdout).toBe('0 errors, 0 warnings in 4 files\n');
    expect(code).toBe(0);
  });

  it('a folder without runbooks is a usage error', () => {
    const empty = mkdtempSync(join(dir, 'empty-'));
    const { code, stderr } = lint(empty);
    expect(code).toBe(2);
    expect(stderr).toMatch(/^runbook: no runbooks \(\*\.yaml, \*\.yml\) in '/);
  });

  it('reports shellcheck findings unless --no-shellcheck', () => {
    expect(lint(`${err}/shellcheck.yaml`, '--format', 'json').stdout).toMatch(/shellcheck\/SC2086/);
    expect(lint(`${err}/shellcheck.yaml`, '--format', 'json', '--no-shellcheck').stdout.trim()).toBe('[]');
  });
});
