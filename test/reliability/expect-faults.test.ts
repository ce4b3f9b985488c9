// Faults class "a verify.expect the engine cannot match": every such pattern is refused before
// anything runs when it is known (lint compiles it exactly as the engine will), and at run time a
// pattern that cannot be matched is a failed verification with a clear message: never a crash
// (exit 70, a stack trace, no cleanup) and never a hung engine (catastrophic backtracking).
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readJournal } from '../../src/engine/journal.js';
import { cliEnv, expectBuilt, runCli } from '../helpers/cli.js';

beforeAll(() => expectBuilt(), 120_000);

/** A runbook whose second step's verification has `expect` (a YAML single-quoted scalar). */
const setup = (expectText: string, extra: { vars?: string; firstRun?: string; secondOutput?: string } = {}) => {
  const dir = mkdtempSync(join(tmpdir(), 'runbook-expect-faults-'));
  const quoted = expectText.replace(/'/g, "''");
  writeFileSync(
    join(dir, 'rb.yaml'),
    `runbook: 1
name: expecting
vars:
  x: ready
${extra.vars ?? ''}steps:
  - id: first
    run: |
      touch "$DIR/first"
      ${extra.firstRun ?? 'true'}
    verify: test -f "$DIR/first"
    env: { DIR: ${dir} }
  - id: second
    run: echo ready
    verify:
      run: ${extra.secondOutput ?? 'echo ready'}
      expect: '${quoted}'
cleanup:
  - id: tidy
    run: touch "$DIR/tidy"
    verify: test -f "$DIR/tidy"
    env: { DIR: ${dir} }
`,
  );
  return dir;
};

const exec = (dir: string, ...more: string[]) =>
  runCli(['exec', join(dir, 'rb.yaml'), '--allow-dirty', '--yes', '--output', 'plain', '--state-dir', join(dir, 'state'), ...more], {
    env: cliEnv(),
    timeoutMs: 30_000,
  });

const records = (dir: string) => {
  const runs = join(dir, 'state', 'runs');
  return readJournal(join(runs, readdirSync(runs)[0]!, 'journal.jsonl')).records;
};

const refusedBeforeAnything = (dir: string, result: Awaited<ReturnType<typeof exec>>, message: RegExp) => {
  expect(result.code, result.output).toBe(2);
  expect(result.stderr).toMatch(message);
  expect(result.stderr).not.toMatch(/internal error|\n\s+at /);
  expect(existsSync(join(dir, 'first'))).toBe(false);
};

describe('verify.expect built from an expression is refused before anything runs', () => {
  // Expressions are not expanded in expect (as in run/verify shell text): `${{` would be matched as
  // written, and `$` followed by `{` can never match, so the step could never pass.
  const notExpanded = /verify\.expect of step 'second' holds '\$\{\{ [^']+ \}\}', which is not expanded/;

  it('from a var given by --var', async () => {
    const dir = setup('^${{ vars.x }}$');
    refusedBeforeAnything(dir, await exec(dir, '--var', 'x=(ready'), notExpanded);
  });

  it('from an environment variable given by --env-file', async () => {
    const dir = setup('${{ env.PATTERN }}');
    writeFileSync(join(dir, 'secrets.env'), 'PATTERN=[ready\n');
    refusedBeforeAnything(dir, await exec(dir, '--env-file', join(dir, 'secrets.env')), notExpanded);
  });

  it('from a step output only known at run time', async () => {
    const dir = setup('${{ steps.first.outputs.pattern }}', { firstRun: 'echo "pattern=(ready" >> "$RUNBOOK_OUTPUT"' });
    refusedBeforeAnything(dir, await exec(dir), notExpanded);
  });
});

describe('verify.expect compiled as the engine uses it', () => {
  it('a pattern too large to compile (V8 accepts its syntax, fails at the first match) is refused by lint', async () => {
    const dir = setup('x'.repeat(200_000));
    refusedBeforeAnything(dir, await exec(dir), /verify\.expect of step 'second' is no regular expression: regular expression too large/);
  });

  it('lint and exec agree on the syntax: what lint accepts runs, matched per line', async () => {
    // Lookbehind, a named group and an escape that only the `u` flag would refuse: valid as written.
    const dir = setup('(?<=version )(?<major>1)\\.\\d+\\-rc$', { secondOutput: "printf 'x\\nversion 1.22-rc\\ny\\n'" });
    const result = await exec(dir);
    expect(result.code, result.output).toBe(0);
  });

  it('catastrophic backtracking on a large output is a failed verification, not a hung engine', async () => {
    const dir = setup('^(a+)+$', { secondOutput: `printf '%s!\\n' "$(head -c 5000 /dev/zero | tr '\\0' a)"` });
    const started = Date.now();
    const result = await exec(dir);
    expect(result.code, result.output).toBe(1);
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(result.stderr).toMatch(/\[second\] failed: verify\.expect \/\^\(a\+\)\+\$\/ took longer than \d+ ms to match the output/);
    expect(existsSync(join(dir, 'tidy'))).toBe(true);
    expect(records(dir).at(-1)).toMatchObject({ type: 'run-end', outcome: 'failed', failedStep: 'second' });
  }, 30_000);
});
