// Following RECOVERY.md by hand restores what was there: the shipped backup runbooks' documents,
// then the shipped recovery's document, their ```bash blocks pasted in order into one strict bash
// (the way the document tells a person to), against the local stack — then every table, file,
// git ref and the DNS record equal the state before the disaster.
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolvePlan } from '../../src/engine/resolve.js';
import { decideWhen, renderDocs } from '../../src/report/docs.js';
import { compareSnapshots, demoEnvironment } from '../../tools/stack/demo.js';
import { startStack, type Stack } from '../../tools/stack/stack.js';

const repo = resolve(import.meta.dirname, '../..');
const backups = ['backup-supabase', 'backup-twenty', 'backup-gitea-db', 'backup-dam-db', 'backup-gitea-repos', 'backup-files'].map(
  (name) => `runbooks/${name}.yaml`,
);

/**
 * The shell a reader pastes from a document: every ```bash block in order, except those of steps
 * whose `when` is false here (the document says "skip this step" for them; decideWhen is how it knows).
 */
const followDocument = (file: string, env: Record<string, string | undefined>): { script: string; skipped: string[] } => {
  const options = { env: 'demo', processEnv: env };
  const markdown = renderDocs([join(repo, file)], options);
  const plan = resolvePlan(join(repo, file), options);
  const blocks: string[] = [];
  const skipped: string[] = [];
  let skipping = false;
  let fence: { ticks: string; lines: string[] } | undefined;
  for (const line of markdown.split('\n')) {
    if (fence) {
      if (line === fence.ticks) {
        if (!skipping) blocks.push(fence.lines.join('\n'));
        fence = undefined;
      } else fence.lines.push(line);
      continue;
    }
    const opening = /^(`{3,})bash$/.exec(line);
    if (opening) fence = { ticks: opening[1]!, lines: [] };
    else if (line.startsWith('## ')) skipping = false;
    else if (line.startsWith('### ')) {
      const number = /^### (C?)(\d+)\. /.exec(line);
      const step = number ? (number[1] ? plan.cleanup : plan.steps)[Number(number[2]) - 1] : undefined;
      if (!step) throw new Error(`${file}: heading "${line}" matches no step of the plan`);
      skipping = decideWhen(plan, step, env) === false;
      if (skipping) skipped.push(step.id);
    }
  }
  if (fence) throw new Error(`${file}: a bash block is not closed`);
  return { script: blocks.join('\n'), skipped };
};

/** Runs a script in one `bash -euo pipefail`, as one pasted session; resolves with its exit code and output. */
const runBash = (
  scriptFile: string,
  env: Record<string, string | undefined>,
  cwd: string,
): Promise<{ code: number | null; output: string }> =>
  new Promise((done, reject) => {
    // stdin from /dev/null: Debian's bash reads bash.bashrc when stdin is a socket.
    const child = spawn('bash', ['-euo', 'pipefail', scriptFile], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => done({ code, output }));
  });

describe('RECOVERY.md followed by hand', () => {
  let stack: Stack;
  let env: Record<string, string | undefined>;
  let work: string;

  beforeAll(async () => {
    stack = await startStack({ scale: 0.2, storage: { files: 12, bytes: 200_000 }, dam: { files: 8, bytes: 150_000 } });
    work = join(stack.root, 'by-hand');
    mkdirSync(join(work, 'tmp'), { recursive: true });
    await stack.writeEnvFile(join(stack.root, 'stack.env'));
    // demoEnvironment: the system rclone first on PATH, AWS_CA_BUNDLE dropped (rclone 1.60 fails on it).
    env = demoEnvironment({ ...stack.env(), TMPDIR: join(work, 'tmp') });
  }, 120_000);
  afterAll(async () => {
    await stack?.stop();
  }, 60_000);

  it('restores the same state as before the disaster, and points DNS at the new address', async () => {
    const before = await stack.snapshot();

    const backup = backups.map((file) => followDocument(file, env));
    writeFileSync(join(work, 'backup.sh'), backup.map((b) => b.script).join('\n'));
    const backedUp = await runBash(join(work, 'backup.sh'), env, work);
    expect(backedUp.code, backedUp.output).toBe(0);

    await stack.destroyServices();
    await stack.recreateEmptyClusters();
    expect(await stack.dns!.query('crm')).not.toEqual(['198.51.100.7']);

    const recovery = followDocument('runbooks/recover-full.yaml', env);
    // The demo stack has no Docker and no configuration repository: the document says to skip those.
    expect(recovery.skipped).toEqual(['prepare-host.docker', 'prepare-host.config', 'prepare-host.databases']);
    // The record is an input line of the dns step; the nsupdate command that sends it is in the definitions.
    expect(recovery.script).toContain(`RECORDS='crm 300 A 198.51.100.7\n`);
    expect(recovery.script).toContain('echo "update add $name $ttl $type $data"');
    writeFileSync(join(work, 'recover.sh'), recovery.script);
    const recovered = await runBash(join(work, 'recover.sh'), env, work);
    expect(recovered.code, recovered.output).toBe(0);
    expect(recovered.output).toMatch(/postgres\.restore: \S+ restored from .*row counts equal/);

    expect(compareSnapshots(before, await stack.snapshot())).toEqual([]);
    expect(await stack.dns!.query('crm')).toEqual(['198.51.100.7']);
  }, 180_000);
});
