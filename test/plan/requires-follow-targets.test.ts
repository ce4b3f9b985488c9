// What a run requires follows its targets: with production's container targets the restores and
// backups need docker, not the host's psql or pg_isready (a fresh VPS has Docker, not PostgreSQL's
// client); with the demo's host targets they need the client tools. The restore test's scratch image
// is the environment's to choose (a machine without a registry names a local image).
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolvePlan } from '../../src/engine/resolve.js';

const runbooks = join(import.meta.dirname, '..', '..', 'runbooks');
// What the local stack's env file gives the demo environment.
const stackEnv = Object.fromEntries(
  ['DAM', 'GITEA_DATA', 'REPOSITORIES', 'SCRATCH', 'STORAGE', 'SUPABASE_DATABASE'].map((name) => [`RUNBOOK_STACK_${name}`, `/srv/${name}`]),
);
for (const name of ['DAM', 'DNS', 'GITEA', 'SUPABASE', 'TWENTY']) stackEnv[`RUNBOOK_STACK_${name}_PORT`] = '5432';
stackEnv.RUNBOOK_STACK_SIGNING_KEY = '/srv/backup-signing-key';
stackEnv.RUNBOOK_STACK_PUBLIC_KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKm7t9WsGjzG1x2bVQ3Zk0o3d9m4r8T6n5y1c2b3a4d5 stack';
const plan = (name: string, env: string, vars: Record<string, string> = {}) =>
  resolvePlan(join(runbooks, `${name}.yaml`), { env, vars, processEnv: stackEnv });

describe('requires follows the targets', () => {
  it.each(['restore-supabase', 'restore-twenty', 'restore-gitea-db', 'restore-dam-db', 'backup-supabase', 'backup-twenty'])(
    '%s with production containers needs docker and no host PostgreSQL client',
    (name) => {
      const { requires } = plan(name, 'production');
      expect(requires).toContain('docker');
      for (const tool of ['psql', 'pg_isready', 'pg_dump', 'pg_restore', 'pg_dumpall']) expect(requires).not.toContain(tool);
    },
  );

  it('with host targets the client tools are required instead', () => {
    const { requires } = plan('restore-supabase', 'demo');
    expect(requires).toContain('psql');
    expect(requires).not.toContain('docker');
  });

  it("the restore test's scratch image comes from a var", () => {
    const scratch = plan('restore-test', 'production', { scratch_image: 'runbook-test/postgres:15-local' }).steps.find(
      (s) => s.id === 'scratch',
    )!;
    expect(scratch.run).toMatch(/^IMAGE=runbook-test\/postgres:15-local$/m);
  });
});
