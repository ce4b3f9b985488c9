// Guarantee 9 — shell traps: what `bash -euo pipefail` (the engine's shell) does with the classic
// pitfalls, pinned through the engine's own spawner and the CLI, with lint's help where it can.
import { writeFileSync } from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runShell } from '../../src/engine/spawn.js';
import { expectBuilt, runCli } from '../helpers/cli.js';

const sh = (text: string) => runShell({ text, env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } });

let dir: string;
beforeAll(() => {
  expectBuilt();
  dir = mkdtempSync(join(tmpdir(), 'rel-traps-'));
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('shell traps under bash -euo pipefail', () => {
  it('a failure in a non-last pipeline stage fails the step (pipefail)', async () => {
    expect((await sh('false | cat; echo unreachable')).exitCode).toBe(1);
    const missing = await sh('cat /nonexistent/dump.sql | gzip -c > /dev/null; echo unreachable');
    expect(missing.exitCode).toBe(1);
    expect(missing.stdout).not.toContain('unreachable');
    // The seed incident: a failing producer piped into a succeeding compressor.
    expect((await sh('{ echo partial; exit 3; } | zstd -q -c > /dev/null')).exitCode).toBe(3);
  });

  it('`local x=$(false)` masks the failure (documented); lint reports SC2155 at the runbook line', async () => {
    const masked = await sh('f() { local x=$(false); echo "went on"; }; f');
    expect(masked.exitCode).toBe(0);
    expect(masked.stdout).toBe('went on\n');
    // Declared then assigned, the failure stops the step.
    expect((await sh('f() { local x; x=$(false); echo "went on"; }; f')).exitCode).toBe(1);
    writeFileSync(
      join(dir, 'local.yaml'),
      'runbook: 1\nname: traps\nsteps:\n  - id: local\n    run: |\n      f() {\n        local x=$(false)\n        echo "$x"\n      }\n      f\n    verify: test -e /etc/hostname\n    timeout: 1m\n',
    );
    const lint = await runCli(['lint', join(dir, 'local.yaml')], { cwd: dir });
    expect(lint.stdout + lint.stderr).toMatch(/local\.yaml:7:15: warning: declare and assign separately.*\[shellcheck\/SC2155\]/);
  });

  it('errexit is off inside a function called as an `if` condition (documented)', async () => {
    const result = await sh('f() { false; echo "after false"; }; if f; then echo "condition true"; fi');
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toBe('after false\ncondition true\n');
    // Called on its own, the same function stops at `false`.
    const plain = await sh('f() { false; echo "after false"; }; f');
    expect(plain.exitCode).toBe(1);
    expect(plain.stdout).toBe('');
  });

  it('`producer | head` fails with 141 (SIGPIPE) under pipefail; process substitution does not', async () => {
    const piped = await sh('seq 1 1000000 | head -n 1');
    expect(piped.stdout).toBe('1\n');
    expect(piped.exitCode).toBe(141);
    const substituted = await sh('head -n 1 < <(seq 1 1000000)');
    expect(substituted.exitCode).toBe(0);
    expect(substituted.stdout).toBe('1\n');
  });

  it('the engine reports the SIGPIPE case as `run exited 141`', async () => {
    writeFileSync(
      join(dir, 'head.yaml'),
      'runbook: 1\nname: head\nsteps:\n  - id: first-line\n    run: seq 1 1000000 | head -n 1\n    verify: test -e /etc/hostname\n    timeout: 1m\n',
    );
    const result = await runCli(['exec', join(dir, 'head.yaml'), '--allow-dirty', '--state-dir', join(dir, 'state'), '--output', 'plain'], {
      cwd: dir,
    });
    expect(result.code).toBe(1);
    expect(result.stdout + result.stderr).toMatch(/\[first-line\] failed: run exited 141/);
  });
});
