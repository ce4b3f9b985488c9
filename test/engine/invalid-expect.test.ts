// A verify.expect that is no regular expression never crashes a run: lint, and so preflight,
// refuses it before anything runs (the engine's own guard is in run.test.ts).
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cliEnv, runCli } from '../helpers/cli.js';

const runbook = (dir: string, expectText: string) => {
  const file = join(dir, 'check.yaml');
  writeFileSync(
    file,
    `runbook: 1
name: check
kind: task
vars:
  pattern: '(unclosed'
steps:
  - id: first
    run: touch "$DIR/first"
    verify: test -f "$DIR/first"
    env: { DIR: ${dir} }
  - id: second
    run: echo ready
    verify:
      run: echo ready
      expect: '${expectText}'
cleanup:
  - id: tidy
    run: touch "$DIR/tidy"
    verify: test -f "$DIR/tidy"
    env: { DIR: ${dir} }
`,
  );
  return file;
};

describe('verify.expect that is no regular expression', () => {
  it('is refused before anything runs when it is written in the runbook (exit 2)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'runbook-expect-'));
    const result = await runCli(['exec', runbook(dir, '[ready'), '--allow-dirty', '--yes', '--output', 'plain'], {
      env: cliEnv({ RUNBOOK_STATE_DIR: join(dir, 'state') }),
    });
    expect(result.code, result.output).toBe(2);
    expect(result.stderr).toMatch(
      /check\.yaml:15:15: verify\.expect of step 'second' is no regular expression: unterminated character class \[invalid-expect\]/,
    );
    expect(existsSync(join(dir, 'first'))).toBe(false);
  });
});
