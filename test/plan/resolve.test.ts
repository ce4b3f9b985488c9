import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolvePlan } from '../../src/engine/resolve.js';
import { evaluateWhen, resolveStepShell } from '../../src/engine/step-shell.js';
import { ExitError } from '../../src/errors.js';

const write = (files: Record<string, string>): string => {
  const dir = mkdtempSync(join(tmpdir(), 'runbook-plan-'));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
};

const included = `runbook: 1
name: inc
vars: { db: fallback }
steps:
  - id: a
    run: echo "db=$db" > "$RUNBOOK_OUTPUT"
    verify: test -s "$RUNBOOK_OUTPUT"
  - id: b
    run: echo "$FROM_A"
    env: { FROM_A: "\${{ steps.a.outputs.db }}" }
    verify: test -n "$FROM_A"
`;

const main = `runbook: 1
name: main
vars: { port: 5432, home: "\${{ env.STACK_HOME }}/x" }
include:
  - { path: inc.yaml, id: one, vars: { db: crm } }
  - { path: inc.yaml, id: two, needs: [first] }
steps:
  - id: last
    needs: [one, two]
    when: \${{ vars.port == '6543' }}
    run: echo last
    verify: { run: "test -d /", retries: 3, interval: 2s }
    timeout: 5m
  - id: first
    needs: []
    run: echo first
    verify: test -d /
cleanup:
  - id: tidy
    run: rm -f x
    verify: test ! -e x
`;

describe('resolvePlan', () => {
  const dir = write({ 'inc.yaml': included, 'main.yaml': main, 'environments/demo.yaml': 'port: 6543\n' });
  const plan = resolvePlan(join(dir, 'main.yaml'), { env: 'demo', vars: { extra: 'v' }, processEnv: { STACK_HOME: '/srv' } });

  it('composes includes with namespaced ids, in file order except where needs say otherwise', () => {
    expect(plan.steps.map((s) => s.id)).toEqual(['one.a', 'one.b', 'first', 'two.a', 'two.b', 'last']);
    expect(plan.steps.find((s) => s.id === 'two.a')!.needs).toEqual(['first']);
    expect(plan.steps.find((s) => s.id === 'last')!.needs).toEqual(['one.a', 'one.b', 'two.a', 'two.b']);
    expect(plan.cleanup.map((s) => s.id)).toEqual(['tidy']);
  });

  it('applies defaults, then the environment, then --var; vars may read env', () => {
    expect(plan.vars).toEqual({ port: 6543, home: '/srv/x', extra: 'v' });
    expect(plan.steps[0]!.env.db).toBe('crm');
    expect(plan.steps.find((s) => s.id === 'two.a')!.env.db).toBe('fallback');
  });

  it('defers shell that needs earlier outputs, and fills it in at run time', () => {
    const b = plan.steps.find((s) => s.id === 'one.b')!;
    expect(b.deferred).toBe(true);
    expect(b.env.FROM_A).toBe('${{ steps.a.outputs.db }}');
    expect(resolveStepShell(plan, b, { 'one.a': { db: 'crm' } }).env.FROM_A).toBe('crm');
  });

  it('normalizes verification and durations', () => {
    const last = plan.steps.find((s) => s.id === 'last')!;
    expect(last.verify).toEqual({ run: 'test -d /', expect: undefined, retries: 3, intervalMs: 2000, timeoutMs: undefined });
    expect(last.timeoutMs).toBe(300_000);
    expect(evaluateWhen(plan, last, {})).toBe(true);
  });

  it('refuses an unknown environment and an unknown need with exit 2', () => {
    expect(() => resolvePlan(join(dir, 'main.yaml'), { env: 'nope' })).toThrow(/environment 'nope' not found/);
    const bad = write({ 'x.yaml': 'runbook: 1\nname: x\nsteps:\n  - id: a\n    needs: [ghost]\n    run: echo\n    verify: test -d /\n' });
    try {
      resolvePlan(join(bad, 'x.yaml'));
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ExitError);
      expect((error as ExitError).code).toBe(2);
      expect((error as ExitError).message).toMatch(/x\.yaml:5:13: needs 'ghost', which is neither a step nor an include \[unknown-needs\]/);
    }
  });

  it('names a dependency cycle', () => {
    const bad = write({
      'c.yaml':
        'runbook: 1\nname: c\nsteps:\n  - id: a\n    needs: [b]\n    run: echo\n    verify: test -d /\n  - id: b\n    needs: [a]\n    run: echo\n    verify: test -d /\n',
    });
    expect(() => resolvePlan(join(bad, 'c.yaml'))).toThrow(/dependency cycle: a -> b -> a/);
  });
});
