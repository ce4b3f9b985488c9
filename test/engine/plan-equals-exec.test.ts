// What you read is what runs: every byte `runbook exec` hands to bash for a step is text that
// `runbook plan` printed — the step's shell, preceded by shell-library files plan lists. A `bash`
// first on PATH records each script it is given, then runs the real bash.
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

interface PlanJson {
  steps: { id: string; run?: string; verify: { run: string } }[];
  library: { file: string; functions: string[]; text: string }[];
}

/** Whether `script` is some of `library`'s texts, in library order, followed by `text`. */
const isLibraryThen = (script: string, library: PlanJson['library'], text: string): boolean => {
  if (!script.endsWith(text)) return false;
  let rest = script.slice(0, script.length - text.length);
  for (const unit of library) if (rest.startsWith(unit.text)) rest = rest.slice(unit.text.length);
  return rest === '';
};

describe('plan prints what exec runs', () => {
  let server: Server;
  let dir: string;
  let url: string;

  beforeAll(async () => {
    server = createServer((_request, response) => response.end('{"status": "ok"}'));
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    const address = server.address();
    url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/health`;
    dir = mkdtempSync(join(tmpdir(), 'runbook-plan-exec-'));
  });
  afterAll(() => new Promise<void>((done) => server.close(() => done())));

  it('runs, for every step, the library files and the text that plan printed, byte for byte', async () => {
    const runbook = join(dir, 'health.yaml');
    writeFileSync(
      runbook,
      `runbook: 1
name: health
kind: task
vars:
  url: ${url}
steps:
  - id: wait
    uses: http.wait
    with: { url: "\${{ vars.url }}", body: '"status": ?"ok"', timeout: 20s, interval: 100ms }
  - id: note
    run: echo "it's up" > "$NOTE"
    verify: grep -qx "it's up" "$NOTE"
    env: { NOTE: ${join(dir, 'note')} }
`,
    );
    const shims = join(dir, 'bin');
    const record = join(dir, 'record');
    mkdirSync(shims);
    mkdirSync(record);
    writeFileSync(
      join(shims, 'bash'),
      `#!/bin/sh
# Records the script of every "bash -euo pipefail -c SCRIPT", then runs the real bash.
if [ "$1" = -euo ] && [ "$3" = -c ]; then printf '%s' "$4" > "$RECORD/$(date +%s%N)-$$"; fi
exec /bin/bash "$@"
`,
    );
    chmodSync(join(shims, 'bash'), 0o755);
    const env = { ...process.env, PATH: `${shims}:${process.env.PATH}`, RECORD: record, RUNBOOK_STATE_DIR: join(dir, 'state') };

    const planned = await runCli(['plan', runbook, '--format', 'json'], { env });
    expect(planned.code, planned.stderr).toBe(0);
    const plan = JSON.parse(planned.stdout) as PlanJson;
    expect(plan.library.map((unit) => unit.file)).toEqual(['http.wait/run.sh', 'http.wait/verify.sh']);
    expect(plan.steps[0]!.run).toMatch(/\nrb_http_wait_run$/);

    const text = await runCli(['plan', runbook], { env });
    for (const unit of plan.library) expect(text.stdout).toContain(`--- ${unit.file}`);

    const ran = await runCli(['exec', runbook, '--allow-dirty', '--yes', '--output', 'plain'], { env });
    expect(ran.code, ran.output).toBe(0);
    const scripts = readdirSync(record).map((name) => readFileSync(join(record, name), 'utf8'));
    for (const step of plan.steps) {
      for (const shell of [step.run!, step.verify.run]) {
        const matching = scripts.filter((script) => script.endsWith(shell));
        expect(matching.length, `${step.id}: a script ending with its text`).toBeGreaterThan(0);
        for (const script of matching) expect(isLibraryThen(script, plan.library, shell), step.id).toBe(true);
      }
    }
    // The plain step runs exactly its text; the action's step needed its library before it.
    expect(scripts).toContain(plan.steps[1]!.run);
    expect(scripts.some((script) => script.length > plan.steps[0]!.run!.length && script.endsWith(plan.steps[0]!.run!))).toBe(true);
  });
});
