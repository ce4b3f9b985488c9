// The plan is plain data: after a trip through JSON it runs exactly as before, deferred steps (whose
// shell waits for earlier steps' outputs) and findings about inputs resolved at run time included.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { TimedEvent } from '../../src/engine/events.js';
import type { Plan } from '../../src/engine/plan-types.js';
import { resolvePlan } from '../../src/engine/resolve.js';
import { runPlan } from '../../src/engine/run.js';
import { planAsJson } from '../../src/report/plan-text.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'runbook-plan-json-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const included = `runbook: 1
name: inc
vars: { db: fallback }
steps:
  - id: a
    run: echo "db=$db" >> "$RUNBOOK_OUTPUT"
    verify: test -s "$RUNBOOK_OUTPUT"
  - id: b
    run: echo "$FROM_A" > "$WORK/from-a"
    env: { FROM_A: "\${{ steps.a.outputs.db }}" }
    verify: test -s "$WORK/from-a"
`;

const main = `runbook: 1
name: main
secrets: [TOKEN]
include:
  - { path: inc.yaml, id: one, vars: { db: crm } }
steps:
  - id: produce
    run: |
      echo "answer=42" >> "$RUNBOOK_OUTPUT"
      echo "empty=" >> "$RUNBOOK_OUTPUT"
    verify: test -s "$RUNBOOK_OUTPUT"
  - id: consume
    run: echo "$GOT $TOKEN" > "$WORK/got"
    env: { GOT: "\${{ steps.produce.outputs.answer }}", TOKEN: "\${{ secrets.TOKEN }}" }
    verify: grep -q '^42 ' "$WORK/got"
  - id: maybe
    when: \${{ steps.produce.outputs.answer == '41' }}
    run: touch "$WORK/maybe"
    verify: test -e "$WORK/maybe"
  - id: probe
    uses: http.wait
    with:
      url: "\${{ steps.produce.outputs.empty }}"
    continue_on_error: true
`;

/** Events without what differs from one run to the next (times, durations). */
const stable = (events: TimedEvent[]) =>
  events.map((event) => {
    const { t: _t, ...rest } = event as TimedEvent & { durationMs?: number };
    return JSON.parse(JSON.stringify(rest, (key, value: unknown) => (key === 'durationMs' || key === 'pid' ? 0 : value))) as unknown;
  });

const execute = async (plan: Plan, name: string) => {
  const work = join(dir, name);
  mkdirSync(work);
  const events: TimedEvent[] = [];
  const processEnv = { ...process.env, WORK: work, TOKEN: 'token-value-1234' };
  const result = await runPlan({
    plan,
    stateDir: join(dir, 'state'),
    processEnv,
    secrets: { TOKEN: 'token-value-1234' },
    runId: `run-${name}`,
    onEvent: (event) => events.push(event),
  });
  return { result, events, got: readFileSync(join(work, 'got'), 'utf8'), fromA: readFileSync(join(work, 'from-a'), 'utf8') };
};

describe('a plan as plain data', () => {
  it('survives JSON.parse(JSON.stringify(plan)) and runs identically', async () => {
    writeFileSync(join(dir, 'inc.yaml'), included);
    writeFileSync(join(dir, 'main.yaml'), main);
    const plan = resolvePlan(join(dir, 'main.yaml'), { processEnv: { ...process.env, TOKEN: 'token-value-1234' } });
    expect(plan.steps.filter((step) => step.deferred).map((step) => step.id)).toEqual(['one.b', 'consume', 'probe']);
    const copy = JSON.parse(JSON.stringify(plan)) as Plan;
    expect(copy).toEqual(plan);

    const before = await execute(plan, 'original');
    const after = await execute(copy, 'copy');
    expect(after.got).toBe('42 token-value-1234\n');
    expect(after.fromA).toBe('crm\n');
    expect(after.got).toBe(before.got);
    expect(after.fromA).toBe(before.fromA);
    const status = (id: string) => after.result.steps.find((step) => step.id === id)!;
    expect(status('maybe').status).toBe('skipped');
    // `with` resolved at run time is checked against the action's schema, pointing into the file.
    expect(status('probe').reason).toMatch(/^cannot resolve the step: .*main\.yaml:\d+:\d+: .*\[schema\]$/);
    expect(after.result.outcome).toBe('success');
    expect(stable(after.events).map((event) => JSON.stringify(event).replace(/run-copy/g, 'run-original'))).toEqual(
      stable(before.events).map((event) => JSON.stringify(event)),
    );
  });

  it('keeps secret values and step definitions out of `plan --format json`', () => {
    writeFileSync(join(dir, 'inc.yaml'), included);
    writeFileSync(join(dir, 'main.yaml'), main.replace('"${{ steps.produce.outputs.answer }}"', 'static'));
    const plan = resolvePlan(join(dir, 'main.yaml'), { processEnv: { ...process.env, TOKEN: 'token-value-1234' } });
    expect(plan.steps.find((step) => step.id === 'consume')!.env.TOKEN).toBe('token-value-1234');
    const text = JSON.stringify(planAsJson(plan));
    expect(text).not.toContain('token-value-1234');
    expect(text).not.toContain('"definition"');
  });
});
