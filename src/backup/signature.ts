// The trust side of the signing contract: a backup's manifest.json is signed on the server with
// `ssh-keygen -Y sign -n runbook-backup` (manifest.json.sig beside it); here it is verified with
// `ssh-keygen -Y verify` against an allowed-signers file built from the public key lines people
// keep in the runbook repository. Whoever can write the bucket cannot make a signature that verifies.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { usageError } from '../errors.js';

/** The namespace and signer identity of every backup signature (the contract fixes both). */
export const signatureNamespace = 'runbook-backup';

/** The name of the signature file beside manifest.json. */
export const signatureName = 'manifest.json.sig';

// An OpenSSH public key line: type, base64 blob, optional comment (what `cat key.pub` prints).
const publicKeyLine = /^((?:ssh|ecdsa|sk)-[A-Za-z0-9@.-]+) ([A-Za-z0-9+/]+={0,3})(?:\s.*)?$/;

/**
 * The public key production.yaml carries as an example for backup_public_key. Nobody has its private
 * key: restores that trusted it could never accept a backup, so it is refused like the example age
 * recipient (secrets.backup's EXAMPLE_RECIPIENT).
 */
export const EXAMPLE_SIGNER = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAILw6Zc0bIoBwurg/S7WdGfq8UZi8DXjQqET1YCAJ3Ack runbook-example';

/**
 * The `TYPE BASE64` keys of a text of public key lines; blank lines and `#` comments are skipped.
 * A line that is no public key, or a text without any, is a usage error naming `source`.
 */
export const parseSigners = (text: string, source: string): string[] => {
  const keys: string[] = [];
  text.split('\n').forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const match = publicKeyLine.exec(line);
    if (!match) throw usageError(`${source}: line ${index + 1} is not an OpenSSH public key line ('ssh-ed25519 AAAA… comment')`);
    if (match[2] === EXAMPLE_SIGNER.split(' ')[1])
      throw usageError(
        `${source}: line ${index + 1} is the example public key shipped with the runbooks, whose private key nobody has: make your own (ssh-keygen -t ed25519 -N '' -C runbook-backup -f /etc/runbook/backup-signing-key) and put its .pub line in backup_public_key`,
      );
    keys.push(`${match[1]} ${match[2]}`);
  });
  if (!keys.length) throw usageError(`${source} holds no public key (expected lines like 'ssh-ed25519 AAAA… comment')`);
  return keys;
};

/** Writes the allowed-signers file of `keys` into `dir` and returns its path. */
export const writeAllowedSigners = async (keys: readonly string[], dir: string): Promise<string> => {
  const file = join(dir, 'allowed_signers');
  await writeFile(file, keys.map((key) => `${signatureNamespace} namespaces="${signatureNamespace}" ${key}\n`).join(''), { mode: 0o600 });
  return file;
};

/**
 * Verifies `signature` over the exact bytes `manifest` against the allowed-signers file; resolves
 * with undefined when it verifies, else with ssh-keygen's reason in one line.
 */
export const verifySignature = async (
  manifest: Buffer,
  signature: Buffer,
  allowedSigners: string,
  scratch: string,
): Promise<string | undefined> => {
  const sigFile = join(scratch, `sig-${Math.random().toString(36).slice(2)}`);
  await writeFile(sigFile, signature, { mode: 0o600 });
  const result = await execa(
    'ssh-keygen',
    ['-Y', 'verify', '-f', allowedSigners, '-I', signatureNamespace, '-n', signatureNamespace, '-s', sigFile],
    { input: manifest, reject: false, env: { LC_ALL: 'C' } },
  );
  if (result.code === 'ENOENT') throw new Error('ssh-keygen: command not found; install openssh-client to verify backup signatures');
  if (result.exitCode === 0) return undefined;
  const reason = `${result.stderr}\n${result.stdout}`
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
    .join('; ');
  return `its signature does not verify against the trusted public keys (${reason || `ssh-keygen exit ${result.exitCode}`})`;
};
