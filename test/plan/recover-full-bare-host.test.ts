// The shipped recovery on a host that has no Docker yet: prepare-host's install step provides it, so
// preflight does not refuse the run for it; without that step (use_docker=false, or --only leaving
// it out) the container targets still need it, named with its Debian package.
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { createPathWithout } from '../helpers/sandbox-path.js';

const sandbox = createPathWithout(['docker', 'docker-compose']);
const env = {
  PATH: sandbox.dir,
  RCLONE_CONFIG_BACKUP_SECRET_ACCESS_KEY: 'not-a-real-key-0001',
  STACK_SECRETS_KEY: 'AGE-SECRET-KEY-1NOTAREALKEY',
  DNS_TSIG_KEY: 'not-a-real-tsig-key',
  NO_COLOR: '1',
};
const dryRun = ['exec', 'runbooks/recover-full.yaml', '--env', 'production', '--dry-run', '--yes', '--allow-dirty'];

describe('recover-full on a host without Docker', () => {
  afterAll(() => sandbox.remove());

  it('passes preflight: the docker step installs it before any step needs it', async () => {
    const run = await runCli(dryRun, { env });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).not.toMatch(/not found on PATH/);
  });

  it.each([
    ['--var use_docker=false', ['--var', 'use_docker=false']],
    ['--only without the docker step', ['--only', 'restore-twenty']],
  ])('with %s, names docker and its package up front (exit 2)', async (_what, extra) => {
    const run = await runCli([...dryRun, ...extra], { env });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('docker (package docker.io)');
    expect(run.stderr).toContain('install them with: apt-get install -y docker.io');
  });
});
