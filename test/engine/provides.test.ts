// `provides`: a command a later step installs does not stop the run up front; the step that needs it
// looks for it right before it starts; a provider is done only once its commands are on PATH. Real
// runs of the built CLI, on a PATH from which the commands are missing.
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { readJournal, type JournalRecord } from '../../src/engine/journal.js';
import { cliEnv, expectBuilt, runCli } from '../helpers/cli.js';
import { createGitRepo, type GitRepo } from '../helpers/git-repo.js';
import { createPathWithout, type SandboxPath } from '../helpers/sandbox-path.js';

let system: SandboxPath;
let server: Server;
let url: string;
beforeAll(async () => {
  expectBuilt('cli/exec.js');
  // curl is hidden so that a step can install it; the system's stays reachable for that step.
  system = createPathWithout(['curl', 'rbtool', 'rbtool2']);
  server = createServer((_request, response) => response.end('healthy'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/health`;
}, 120_000);
afterAll(async () => {
  system?.remove();
  await new Promise((resolve) => server?.close(resolve));
});

let repo: GitRepo;
afterEach(() => repo?.remove());

/** A committed runbook, a WORK folder for side effects and an empty BIN folder first on PATH. */
const setup = (runbook: string) => {
  repo = createGitRepo({ 'rb.yaml': runbook });
  mkdirSync(join(repo.dir, 'work'));
  mkdirSync(join(repo.dir, 'bin'));
};
const work = (name: string) => join(repo.dir, 'work', name);

const exec = (...args: string[]) =>
  runCli(['exec', 'rb.yaml', '--state-dir', join(repo.dir, '.state'), '--output', 'plain', ...args], {
    cwd: repo.dir,
    env: cliEnv({ PATH: `${join(repo.dir, 'bin')}:${system.dir}`, WORK: join(repo.dir, 'work'), BIN: join(repo.dir, 'bin') }),
  });

const journal = (): JournalRecord[] => {
  const runs = join(repo.dir, '.state', 'runs');
  const [run] = readdirSync(runs);
  return readJournal(join(runs, run!, 'journal.jsonl')).records;
};

/** Shell that installs `rbtool` into $BIN: a command that records each call in $WORK/used. */
const installTool = `printf '#!/bin/sh\\necho called >> "$WORK/used"\\n' > "$BIN/rbtool"\n      chmod +x "$BIN/rbtool"`;

/** before → install (provides rbtool) → use (calls rbtool); the runbook requires rbtool. */
const toolRunbook = (installExtra = '') => `runbook: 1
name: tool
requires: [rbtool]
vars:
  install_tool: true
steps:
  - id: before
    run: touch "$WORK/before"
    verify: test -e "$WORK/before"
  - id: install
    provides: [rbtool]${installExtra}
    run: |
      ${installTool}
    verify: test -x "$BIN/rbtool"
  - id: use
    run: rbtool
    verify: test -s "$WORK/used"
`;

describe('preflight defers a missing command to the step that provides it', () => {
  it('runs the steps before the provider, the provider, and the steps that call the command after it', async () => {
    setup(toolRunbook());
    const run = await exec();
    expect(run.output).not.toContain('failed');
    expect(run.code).toBe(0);
    expect(existsSync(work('before'))).toBe(true);
    expect(readFileSync(work('used'), 'utf8')).toBe('called\n');
  });

  it('requires the command up front when --from skips the provider', async () => {
    setup(toolRunbook());
    const run = await exec('--from', 'use');
    expect(run.code).toBe(2);
    expect(run.stderr).toBe('runbook: required command(s) not found on PATH: rbtool (no Debian package known)\n');
    expect(existsSync(join(repo.dir, '.state', 'runs'))).toBe(false);
  });

  it('requires the command up front when --only leaves the provider out', async () => {
    setup(toolRunbook());
    const run = await exec('--only', 'before', 'use');
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('not found on PATH: rbtool');
    expect(existsSync(work('before'))).toBe(false);
  });

  it("requires the command up front when the provider's when is false (--var), and not when it is true", async () => {
    setup(toolRunbook('\n    when: ${{ vars.install_tool }}'));
    const skipped = await exec('--var', 'install_tool=false');
    expect(skipped.code).toBe(2);
    expect(skipped.stderr).toContain('not found on PATH: rbtool');
    expect(existsSync(work('before'))).toBe(false);
    const installing = await exec('--var', 'install_tool=true');
    expect(installing.code).toBe(0);
    expect(readFileSync(work('used'), 'utf8')).toBe('called\n');
  });

  it('counts a provider whose when reads step outputs as one that runs', async () => {
    setup(
      toolRunbook("\n    when: ${{ steps.before.outputs.install == 'yes' }}").replace(
        'run: touch "$WORK/before"',
        'run: touch "$WORK/before"; echo install=yes >> "$RUNBOOK_OUTPUT"',
      ),
    );
    const run = await exec();
    expect(run.code).toBe(0);
    expect(readFileSync(work('used'), 'utf8')).toBe('called\n');
  });

  it("defers a command a built-in action calls (http.wait's curl) when its provider comes first", async () => {
    setup(`runbook: 1
name: health
steps:
  - id: curl
    provides: [curl]
    run: ln -s /usr/bin/curl "$BIN/curl"
    verify: test -x "$BIN/curl"
  - id: health
    uses: http.wait
    with: { url: "${url}", body: healthy, timeout: 10s, interval: 100ms }
`);
    const run = await exec();
    expect(run.code).toBe(0);
    expect(
      journal()
        .filter((r) => r.type === 'step-done')
        .map((r) => r.id),
    ).toEqual(['curl', 'health']);
  });

  it('refuses a command a built-in action calls before the step that provides it, saying so', async () => {
    setup(`runbook: 1
name: health
steps:
  - id: mark
    run: touch "$WORK/mark"
    verify: test -e "$WORK/mark"
  - id: health
    uses: http.wait
    with: { url: "${url}", timeout: 10s }
  - id: curl
    provides: [curl]
    run: ln -s /usr/bin/curl "$BIN/curl"
    verify: test -x "$BIN/curl"
`);
    const run = await exec();
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(
      [
        'runbook: required command(s) not found on PATH: curl (package curl)',
        'install them with: apt-get install -y curl',
        "note that step 'health' needs curl before step 'curl' provides it",
        '',
      ].join('\n'),
    );
    expect(existsSync(work('mark'))).toBe(false);
  });
});

describe('each step looks for the commands it needs right before it starts', () => {
  /** The provider is skipped at run time: `decide` says no. */
  const skippedProvider = (consumer: string) => `runbook: 1
name: skipped
requires: [rbtool]
steps:
  - id: decide
    run: echo install=no >> "$RUNBOOK_OUTPUT"
    verify: test -d /
  - id: install
    provides: [rbtool, curl]
    when: \${{ steps.decide.outputs.install == 'yes' }}
    run: |
      ${installTool}
    verify: test -x "$BIN/rbtool"
${consumer}
cleanup:
  - id: tidy
    run: touch "$WORK/tidy"
    verify: test -e "$WORK/tidy"
`;

  it('fails a run step whose provided command is missing, before it starts, and journals it', async () => {
    setup(
      skippedProvider(`  - id: use
    run: rbtool; touch "$WORK/use"
    verify: test -e "$WORK/use"
  - id: after
    run: touch "$WORK/after"
    verify: test -e "$WORK/after"`),
    );
    const run = await exec();
    expect(run.code).toBe(1);
    expect(run.output).toContain('[use] failed: required command(s) not found on PATH: rbtool (no Debian package known)');
    expect(existsSync(work('use'))).toBe(false);
    expect(existsSync(work('after'))).toBe(false);
    // Cleanup steps do not look for provided commands: they run whatever happened before.
    expect(existsSync(work('tidy'))).toBe(true);
    const records = journal();
    expect(records.some((r) => r.type === 'step-start' && r.id === 'use')).toBe(false);
    expect(records.find((r) => r.type === 'step-failed')).toMatchObject({
      id: 'use',
      error: 'required command(s) not found on PATH: rbtool (no Debian package known)',
    });
    expect(records.at(-1)).toMatchObject({ type: 'run-end', outcome: 'failed', failedStep: 'use' });
  });

  it("fails a built-in action's step whose command is missing, naming its package and the install line", async () => {
    setup(
      skippedProvider(`  - id: health
    uses: http.wait
    with: { url: "${url}", timeout: 10s }`).replace('requires: [rbtool]\n', ''),
    );
    const run = await exec();
    expect(run.code).toBe(1);
    expect(journal().find((r) => r.type === 'step-failed')).toMatchObject({
      id: 'health',
      error: 'required command(s) not found on PATH: curl (package curl)\ninstall them with: apt-get install -y curl',
    });
  });
});

describe('a provider is done only once what it provides is on PATH', () => {
  const provider = (fields: string) => `runbook: 1
name: provider
steps:
  - id: install
${fields}
  - id: after
    run: touch "$WORK/after"
    verify: test -e "$WORK/after"
`;

  it('fails a provider whose verification passed but whose command is not on PATH', async () => {
    setup(provider('    provides: [rbtool]\n    run: touch "$WORK/ran"\n    verify: test -e "$WORK/ran"'));
    const run = await exec();
    expect(run.code).toBe(1);
    expect(run.output).toContain("[install] failed: step 'install' passed its verification but does not provide rbtool: not on PATH");
    expect(existsSync(work('ran'))).toBe(true);
    expect(existsSync(work('after'))).toBe(false);
    const records = journal();
    expect(records.some((r) => r.type === 'step-done')).toBe(false);
    expect(records.find((r) => r.type === 'step-failed')).toMatchObject({
      id: 'install',
      error: "step 'install' passed its verification but does not provide rbtool: not on PATH",
    });
  });

  it('fails a provider that installs into a folder not on PATH', async () => {
    setup(
      provider(
        '    provides: [rbtool]\n    run: mkdir -p "$WORK/opt" && printf \'#!/bin/sh\\n\' > "$WORK/opt/rbtool" && chmod +x "$WORK/opt/rbtool"\n    verify: test -x "$WORK/opt/rbtool"',
      ),
    );
    const run = await exec();
    expect(run.code).toBe(1);
    expect(run.output).toContain('does not provide rbtool: not on PATH');
    expect(existsSync(work('after'))).toBe(false);
  });

  it('names only the provided commands that are missing', async () => {
    setup(provider(`    provides: [rbtool, rbtool2]\n    run: |\n      ${installTool}\n    verify: test -x "$BIN/rbtool"`));
    const run = await exec();
    expect(run.code).toBe(1);
    expect(run.output).toContain("step 'install' passed its verification but does not provide rbtool2: not on PATH");
  });

  it('holds for a manual step too', async () => {
    setup(provider('    provides: [rbtool]\n    manual: Install rbtool by hand.\n    verify: test -d /\n    timeout: 5s'));
    const run = await exec();
    expect(run.code).toBe(1);
    expect(run.output).toContain("step 'install' passed its verification but does not provide rbtool: not on PATH");
    expect(existsSync(work('after'))).toBe(false);
  });

  it('is done, and the steps after it run, once the command is on PATH', async () => {
    setup(provider(`    provides: [rbtool]\n    run: |\n      ${installTool}\n    verify: test -x "$BIN/rbtool"`));
    const run = await exec();
    expect(run.code).toBe(0);
    expect(existsSync(work('after'))).toBe(true);
  });
});
