// The shipped runbooks carry an example age public key whose private key nobody has: secrets encrypted
// to it could never be decrypted, so plan and exec refuse it (exit 2) until the operator puts their own.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

describe('the example age key of the shipped runbooks', () => {
  it('is refused before anything runs, saying how to make one of your own', async () => {
    for (const args of [['plan'], ['exec', '--dry-run', '--yes', '--allow-dirty']]) {
      const run = await runCli([args[0]!, 'runbooks/backup-config.yaml', '--env', 'production', ...args.slice(1)]);
      expect(run.code, run.stderr).toBe(2);
      expect(run.stderr).toContain('recipients holds the example key shipped with the runbooks');
      expect(run.stderr).toContain('age-keygen -o key.txt');
    }
  });

  it('any real key of your own is taken', async () => {
    const key = /age1[a-z0-9]+/.exec(execFileSync('age-keygen', { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }))![0];
    const run = await runCli(['plan', 'runbooks/backup-config.yaml', '--env', 'production', '--var', `secrets_recipients=["${key}"]`]);
    expect(run.code, run.stderr).toBe(0);
  });
});
