// What a server keeps besides its data, and what a new server gets back from the bucket first: the
// stack's configuration repository checked out (with its secrets in an untracked .env), the runbook
// repository's checkout, the folder backup-config mirrors both into, and the operator's age key pair
// (the public half on the server, the private half handed to the recovery as STACK_SECRETS_KEY), and
// the ed25519 key pair the backups are signed with, and the single executable the server runs
// (backup-config stores it in the bucket; RECOVERY.md's bootstrap brings it back).
import { existsSync } from 'node:fs';
import { chmod, copyFile, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { hashFile } from './files.js';
import { git } from './git.js';
import { repository } from './repository.js';
import { runCommand } from './run.js';

export interface ServerConfig {
  configDir: string;
  runbookDir: string;
  mirrorDir: string;
  /** The server's runbook executable (runbook_executable): a copy of build/runbook-linux-x64. */
  executable: string;
  /** The age public key the secrets are encrypted to. */
  recipient: string;
  /** The ed25519 private key the backups are signed with (sign_with), and its public key line. */
  signingKey: string;
  publicKey: string;
  /** Variables for the environment files (demo.yaml, demo-docker.yaml) and the key as STACK_SECRETS_KEY. */
  env(): Record<string, string>;
  /** The configuration's commit and every secret file's sha256 and mode. */
  snapshot(): Promise<{ commit: string; secrets: Record<string, string> }>;
  /** The disaster's share: the checkouts and mirrors are gone with the server. */
  destroy(): Promise<void>;
}

/** A secret value that is new on every start and long enough to be masked. */
export const randomSecret = (prefix: string): string => `${prefix}-${crypto.randomUUID().replaceAll('-', '')}`;

/**
 * Creates the configuration repository under ROOT/stack: FILES committed on main, `.env` (SECRETS)
 * untracked and ignored, mode 0600; clones this project as the runbook checkout; makes an age key.
 */
export const prepareServerConfig = async (
  root: string,
  { files, secrets }: { files: Record<string, string>; secrets: string },
): Promise<ServerConfig> => {
  const configDir = join(root, 'stack');
  const runbookDir = join(root, 'runbook');
  const mirrorDir = join(root, 'mirrors');
  const executable = join(root, 'bin', 'runbook');
  const built = join(repository, 'build', 'runbook-linux-x64');
  if (!existsSync(built)) throw new Error(`${built} is missing: run npm run build:binary (npm test and the demos do)`);
  await mkdir(dirname(executable), { recursive: true });
  await copyFile(built, executable);
  await chmod(executable, 0o755);
  for (const [name, text] of Object.entries({ ...files, '.gitignore': '.env\n' })) {
    await mkdir(dirname(join(configDir, name)), { recursive: true });
    await writeFile(join(configDir, name), text);
  }
  await writeFile(join(configDir, '.env'), secrets, { mode: 0o600 });
  await git(['-C', configDir, 'init', '-q', '-b', 'main']);
  await git(['-C', configDir, 'add', '--', ...Object.keys(files), '.gitignore']);
  await git(['-C', configDir, 'commit', '-q', '-m', 'The stack']);
  await git(['clone', '-q', '--no-local', repository, runbookDir]);
  const keyFile = join(root, 'age-key.txt');
  await runCommand('age-keygen', ['-o', keyFile]);
  const identity = (await readFile(keyFile, 'utf8')).split('\n').find((line) => line.startsWith('AGE-SECRET-KEY-'))!;
  const recipient = (await runCommand('age-keygen', ['-y', keyFile])).stdout.trim();
  await rm(keyFile);
  // Outside the checkouts: like the operator's copy kept off the server, it outlives the disaster.
  const signingKey = join(root, 'backup-signing-key');
  await rm(signingKey, { force: true });
  await runCommand('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'runbook-stack', '-f', signingKey]);
  const publicKey = (await readFile(`${signingKey}.pub`, 'utf8')).trim();
  return {
    configDir,
    runbookDir,
    mirrorDir,
    executable,
    recipient,
    signingKey,
    publicKey,
    env: () => ({
      RUNBOOK_STACK_CONFIG_DIR: configDir,
      RUNBOOK_STACK_RUNBOOK_DIR: runbookDir,
      RUNBOOK_STACK_MIRROR_DIR: mirrorDir,
      RUNBOOK_STACK_EXECUTABLE: executable,
      RUNBOOK_STACK_AGE_RECIPIENT: recipient,
      RUNBOOK_STACK_SIGNING_KEY: signingKey,
      RUNBOOK_STACK_PUBLIC_KEY: publicKey,
      STACK_SECRETS_KEY: identity,
    }),
    snapshot: async () => {
      const commit = (await git(['-C', configDir, 'rev-parse', 'HEAD'])).stdout.trim();
      const env = join(configDir, '.env');
      const mode = ((await stat(env)).mode & 0o7777).toString(8);
      return { commit, secrets: { '.env': `${mode} ${await hashFile(env)}` } };
    },
    destroy: async () => {
      for (const path of [configDir, runbookDir, mirrorDir, dirname(executable)]) await rm(path, { recursive: true, force: true });
    },
  };
};
