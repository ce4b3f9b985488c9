// backup-config's `executable` step, run from the shipped runbook against a bucket that is a local
// folder (rclone takes one): it stores the server's single executable, its checksum and their
// signature where RECOVERY.md's bootstrap looks, and refuses before storing anything what a bare
// server could not use — npm's `runbook` script, a key it cannot sign with.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { findSystemBinary } from '../../tools/stack/run.js';
import { cli, cliEnv, expectBuilt, repository, runCli } from '../helpers/cli.js';
import { sha256 } from '../helpers/manifest.js';

const root = mkdtempSync(join(tmpdir(), 'runbook-store-executable-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const signingKey = join(root, 'backup-signing-key');
execFileSync(findSystemBinary('ssh-keygen', 'openssh-client'), ['-q', '-t', 'ed25519', '-N', '', '-C', 'test', '-f', signingKey]);

// backup-config refuses its shipped example age key even for one step: any recipient of our own.
const recipient = execFileSync(findSystemBinary('age-keygen', 'age'), ['-y'], {
  input: execFileSync('age-keygen', [], { stdio: ['ignore', 'pipe', 'ignore'] }),
})
  .toString()
  .trim();

const storeExecutable = (name: string, executable: string, key = signingKey) => {
  const bucket = join(root, name, 'bucket');
  const run = runCli(
    [
      'exec',
      'runbooks/backup-config.yaml',
      '--only',
      'executable',
      '--yes',
      '--allow-dirty',
      '--output',
      'plain',
      '--state-dir',
      join(root, name, 'state'),
      '--var',
      `backup_remote=${bucket}`,
      '--var',
      `runbook_executable=${executable}`,
      '--var',
      `backup_signing_key=${key}`,
      '--var',
      `secrets_recipients=[${recipient}]`,
    ],
    { env: cliEnv({ RCLONE_CONFIG_BACKUP_SECRET_ACCESS_KEY: 'not-used-by-a-local-bucket' }) },
  );
  return { run, stored: join(bucket, 'runbook') };
};

describe("backup-config's executable step", () => {
  it('stores the executable, its checksum and the signature the bootstrap checks', async () => {
    expectBuilt();
    const executable = join(repository, 'build', 'runbook-linux-x64');
    expect(existsSync(executable), 'run npm run build:binary first (npm test does)').toBe(true);
    const { run, stored } = storeExecutable('good', executable);
    const outcome = await run;
    expect(outcome.code, outcome.output).toBe(0);
    const bytes = readFileSync(join(stored, 'runbook-linux-x64'));
    expect(bytes.equals(readFileSync(executable))).toBe(true);
    expect(readFileSync(join(stored, 'runbook-linux-x64.sha256'), 'utf8')).toBe(`${sha256(bytes)}  runbook-linux-x64\n`);
    const signers = join(root, 'allowed_signers');
    writeFileSync(signers, `runbook-backup namespaces="runbook-backup" ${readFileSync(`${signingKey}.pub`, 'utf8')}`);
    execFileSync(
      'ssh-keygen',
      ['-Y', 'verify', '-f', signers, '-I', 'runbook-backup', '-n', 'runbook-backup', '-s', join(stored, 'runbook-linux-x64.sha256.sig')],
      {
        input: readFileSync(join(stored, 'runbook-linux-x64.sha256')),
      },
    );
  }, 60_000);

  const refused: [string, () => string, string, RegExp][] = [
    ["npm's runbook script", () => cli, signingKey, /is not the single executable runbook-linux-x64/],
    ['a missing file', () => join(root, 'nowhere', 'runbook'), signingKey, /is not the single executable runbook-linux-x64/],
    [
      'a signing key that is not there',
      () => {
        const copy = join(root, 'runbook-copy');
        copyFileSync(join(repository, 'build', 'runbook-linux-x64'), copy);
        return copy;
      },
      join(root, 'no-such-key'),
      /cannot read the signing key/,
    ],
  ];
  it.each(refused)(
    'refuses %s before storing anything',
    async (name, executable, key, message) => {
      const { run, stored } = storeExecutable(name.replace(/\W+/g, '-'), executable(), key);
      const outcome = await run;
      expect(outcome.code, outcome.output).toBe(1);
      expect(outcome.output).toMatch(message);
      expect(existsSync(stored)).toBe(false);
    },
    60_000,
  );
});
