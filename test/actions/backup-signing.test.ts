// Backups signed with an ed25519 key on the server (sign_with): manifest.json.sig is
// `ssh-keygen -Y sign -n runbook-backup` over the manifest's bytes, uploaded before the manifest; a
// key that cannot sign is refused before anything is stored.
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExpandContext } from '../../src/actions/action.js';
import { filesBackup } from '../../src/actions/files.backup/index.js';
import { gitBackup } from '../../src/actions/git.backup/index.js';
import { postgresDump } from '../../src/actions/postgres.dump/index.js';
import { secretsBackup } from '../../src/actions/secrets.backup/index.js';
import type { FilesBackupInput } from '../../src/runbook/schema.generated.js';
import { expectOk, requireBinaries, runShell, runStep } from '../backup/shell.js';

const context: ExpandContext = { runbook: 'test', stepId: 'backup', secrets: [] };

/** A new key pair in `dir`: `ssh-keygen -t TYPE`, with a passphrase when given. */
const keyPair = (dir: string, name: string, type = 'ed25519', passphrase = ''): { key: string; pub: string } => {
  const key = join(dir, name);
  execFileSync('ssh-keygen', ['-q', '-t', type, '-N', passphrase, '-C', name, '-f', key]);
  return { key, pub: execFileSync('cat', [`${key}.pub`]).toString() };
};

describe('signed backups (sign_with)', () => {
  let root: string;
  let source: string;
  let signer: { key: string; pub: string };
  let other: { key: string; pub: string };
  let counter = 0;
  const dest = () => join(root, `backups-${++counter}`);
  const backup = (to: string, input: Partial<FilesBackupInput> = {}) =>
    filesBackup.expand({ source, to, ...input } as FilesBackupInput, context);
  /** `ssh-keygen -Y verify` of FOLDER's manifest.json against PUB, as the contract says. */
  const verifySignature = (folder: string, pub: string) =>
    runShell(
      `printf 'runbook-backup namespaces="runbook-backup" %s\\n' "$(cut -d ' ' -f 1,2 <<< "$PUB")" > "$FOLDER/../allowed" && ssh-keygen -Y verify -f "$FOLDER/../allowed" -I runbook-backup -n runbook-backup -s "$FOLDER/manifest.json.sig" < "$FOLDER/manifest.json"`,
      { FOLDER: folder, PUB: pub },
    );
  const expectNothingStored = async (to: string) => expect(await readdir(to).catch(() => [])).toEqual([]);

  beforeAll(async () => {
    requireBinaries('ssh-keygen', 'rclone', 'jq');
    root = await mkdtemp(join(tmpdir(), 'signing-'));
    source = join(root, 'source');
    await mkdir(source);
    await writeFile(join(source, 'a.txt'), 'hello\n');
    signer = keyPair(root, 'signer');
    other = keyPair(root, 'other');
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('a signed backup has manifest.json.sig, which ssh-keygen verifies against the public key and not against another', async () => {
    const to = dest();
    const { run, verify, outputs } = await runStep(backup(to, { sign_with: signer.key } as Partial<FilesBackupInput>), root);
    expectOk(run, 'backup');
    expectOk(verify, 'verify');
    const folder = join(to, outputs.backup!);
    expect((await readdir(folder)).sort()).toEqual(['files', 'manifest.json', 'manifest.json.sig']);
    expectOk(await verifySignature(folder, signer.pub), 'ssh-keygen -Y verify');
    expect((await verifySignature(folder, other.pub)).code).not.toBe(0);
    expect(verify!.stdout).toContain('signature');
  });

  it("the step's verification fails when the stored signature is not the key's", async () => {
    const to = dest();
    const { run, outputs } = await runStep(backup(to, { sign_with: signer.key } as Partial<FilesBackupInput>), root);
    expectOk(run, 'backup');
    const folder = join(to, outputs.backup!);
    expectOk(
      await runShell(`ssh-keygen -q -Y sign -f "$KEY" -n runbook-backup < "$FOLDER/manifest.json" > "$FOLDER/manifest.json.sig"`, {
        KEY: other.key,
        FOLDER: folder,
      }),
      'sign with the other key',
    );
    const expansion = backup(to, { sign_with: signer.key } as Partial<FilesBackupInput>);
    const output = join(root, 'output-verify');
    await writeFile(output, `backup=${outputs.backup}\n`);
    const verify = await runShell(expansion.verify.run, { RUNBOOK_OUTPUT: output });
    expect(verify.code, verify.stdout + verify.stderr).toBe(1);
    expect(verify.stderr).toContain('manifest.json.sig');
  });

  it('refuses a missing key, a passphrase-protected key and an RSA key before anything is stored', async () => {
    const cases: [string, RegExp][] = [
      [join(root, 'no-such-key'), /cannot read the signing key .*no-such-key/],
      [keyPair(root, 'locked', 'ed25519', 'secret passphrase').key, /passphrase/],
      [keyPair(root, 'rsa', 'rsa').key, /not an ed25519 key/],
      [join(root, 'source', 'a.txt'), /not an OpenSSH private key|not an ed25519 key/],
    ];
    for (const [key, message] of cases) {
      const to = dest();
      const { run } = await runStep(backup(to, { sign_with: key } as Partial<FilesBackupInput>), root);
      expect(run.code, run.stderr).toBe(1);
      expect(run.stderr).toMatch(message);
      expect(run.stderr).toContain('Nothing was stored');
      await expectNothingStored(to);
    }
  });

  it('uploads the signature before the manifest: killed between them, the folder has no manifest', async () => {
    const to = dest();
    const { run } = await runStep(backup(to, { sign_with: signer.key } as Partial<FilesBackupInput>), root, {
      // The step's shell is killed (SIGKILL, no trap) when it starts uploading manifest.json.
      'BASH_FUNC_rclone%%': '() { case "${!#}" in */manifest.json) kill -KILL $$ ;; esac; command rclone "$@"; }',
    });
    expect(run.code).not.toBe(0);
    const [folder] = await readdir(to);
    expect((await readdir(join(to, folder!))).sort()).toEqual(['files', 'manifest.json.sig']);
  });

  it('every backup action takes sign_with and passes it to its shell', async () => {
    const key = '/etc/runbook/backup-signing-key';
    const expansions = [
      postgresDump.expand({ target: { host: '127.0.0.1', port: 5432 }, database: 'app', to: '/b', sign_with: key } as never, context),
      filesBackup.expand({ source: '/s', to: '/b', sign_with: key } as never, context),
      gitBackup.expand({ repositories: '/r', to: '/b', sign_with: key } as never, context),
      secretsBackup.expand(
        {
          source: '/s',
          files: ['.env'],
          recipients: ['age1qyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqs3290gq'],
          to: '/b',
          sign_with: key,
        } as never,
        context,
      ),
    ];
    for (const expansion of expansions) {
      expect(expansion.run).toContain(`SIGN_WITH=${key}`);
      expect(expansion.verify.run).toContain(`SIGN_WITH=${key}`);
    }
    for (const name of ['postgres.dump', 'files.backup', 'git.backup', 'secrets.backup'])
      expect(
        JSON.parse(await readFile(new URL(`../../schemas/actions/${name}.schema.json`, import.meta.url), 'utf8')).properties.sign_with,
        name,
      ).toBeDefined();
  });
});
