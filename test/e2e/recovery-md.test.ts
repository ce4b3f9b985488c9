// Following RECOVERY.md by hand restores what was there: the shipped backup runbooks' documents,
// then the shipped recovery's document, their ```bash blocks pasted in order into one strict bash
// (the way the document tells a person to), against the local stack — then every table, file,
// git ref and the DNS record equal the state before the disaster.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compareSnapshots, demoEnvironment } from '../../tools/stack/demo.js';
import { followDocument, runBash } from '../../tools/stack/follow-document.js';
import { startStack, type Stack } from '../../tools/stack/stack.js';
import { BACKUP_RUNBOOKS } from '../../tools/stack/runbooks.js';

const repo = resolve(import.meta.dirname, '../..');
const backups = BACKUP_RUNBOOKS.map((name) => `runbooks/${name}.yaml`);

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

    const backup = backups.map((file) => followDocument(file, 'demo', env));
    writeFileSync(join(work, 'backup.sh'), backup.map((b) => b.script).join('\n'));
    const backedUp = await runBash(join(work, 'backup.sh'), env, work);
    expect(backedUp.code, backedUp.output).toBe(0);

    await stack.destroyServices();
    await stack.recreateEmptyClusters();
    expect(await stack.dns!.query('crm')).not.toEqual(['198.51.100.7']);

    const recovery = followDocument('runbooks/recover-full.yaml', 'demo', env);
    // The demo stack has no Docker and no applications: the document says to skip those steps.
    expect(recovery.skipped).toEqual(['prepare-host.docker', 'prepare-host.databases', 'applications', 'supabase', 'crm', 'gitea', 'dam']);
    // It starts with the bootstrap: the runbook repository from its bundle in the bucket.
    expect(recovery.script.indexOf('git clone --quiet "$bundles/bundles/$runbook_repository.git.bundle"')).toBeGreaterThan(-1);
    // The record is an input line of the dns step; the nsupdate command that sends it is in the definitions.
    expect(recovery.script).toContain(`RECORDS='supabase 300 A 198.51.100.7\ncrm 300 A 198.51.100.7\n`);
    expect(recovery.script).toContain('echo "update add $name $ttl $type $data"');
    writeFileSync(join(work, 'recover.sh'), recovery.script);
    const recovered = await runBash(join(work, 'recover.sh'), env, work);
    expect(recovered.code, recovered.output).toBe(0);
    expect(recovered.output).toMatch(/postgres\.restore: \S+ restored from .*row counts equal/);
    // The tool came from the bucket first: its signature and checksum checked, then installed where
    // the server had it, and the same bytes as the one backup-config stored.
    expect(recovered.output).toContain('Good "runbook-backup" signature for runbook-backup');
    expect(recovered.output).toContain('runbook-linux-x64: OK');
    const executable = stack.env().RUNBOOK_STACK_EXECUTABLE!;
    expect(readFileSync(executable).equals(readFileSync(join(repo, 'build', 'runbook-linux-x64')))).toBe(true);

    expect(compareSnapshots(before, await stack.snapshot())).toEqual([]);
    expect(await stack.dns!.query('crm')).toEqual(['198.51.100.7']);
    // The bootstrap's checkout of the runbook repository is the commit the backup mirrored.
    const head = (dir: string) => execFileSync('git', ['-C', dir, 'rev-parse', 'HEAD'], { encoding: 'utf8' }).trim();
    expect(head(stack.env().RUNBOOK_STACK_RUNBOOK_DIR!)).toBe(head(repo));
  }, 180_000);
});
