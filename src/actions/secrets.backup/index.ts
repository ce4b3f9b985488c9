// secrets.backup: a server's secret files (a compose .env, Supabase's JWT secret) as one tar
// encrypted with age to public keys on the server, in a new backup folder, with a manifest of each
// file's path, mode, owner and size (no hash of its content) written last (run.sh and verify.sh
// say how; lib/secrets.sh describes the backup).
import { usageError } from '../../errors.js';
import type { SecretsBackupInput } from '../../runbook/schema.generated.js';
import { shellQuote } from '../../shell/quote.js';
import { callShell, type Action } from '../action.js';
import { signingRequires, signingValues } from '../signing.js';

/** `NAME=(…)`: values as a bash array, each word quoted. */
const arrayLine = (name: string, values: readonly string[]): string => `${name}=(${values.map((value) => shellQuote(value)).join(' ')})`;

/**
 * Why a listed path cannot name a secret file, or undefined: the same rules as `path_problem` in
 * src/actions/lib/secrets-archive.jq, which the run and the restore apply again.
 */
export const secretPathProblem = (path: string): string | undefined => {
  if (path === '') return 'not a path';
  if (path.startsWith('/')) return 'an absolute path';
  const parts = path.split('/');
  if (parts.includes('..')) return "contains '..'";
  if (parts.some((part) => part === '' || part === '.')) return "has an empty or '.' part";
  if (/[\u0000-\u001f\u007f\\]/.test(path)) return 'holds a control character or a backslash';
  if (path === 'SHA256SUMS') return "is SHA256SUMS, the name of the archive's own checksum list";
  return undefined;
};

/**
 * The public key the shipped runbooks carry as an example. Nobody has its private key: secrets
 * encrypted to it could never be decrypted, so it is refused before anything runs.
 */
export const EXAMPLE_RECIPIENT = 'age198g06c3fy9gcgxq9v908twhn5vwuyde5lv95k6w9v4fayera59ysfhf77e';

const checkInput = (input: SecretsBackupInput, step: string): void => {
  const fail = (message: string) => usageError(`step ${step}: secrets.backup: ${message}`);
  if (input.files.length === 0) throw fail('files lists no file');
  for (const path of input.files) {
    const problem = secretPathProblem(path);
    if (problem) throw fail(`files: '${path}': ${problem}; list paths inside source`);
  }
  if (new Set(input.files).size !== input.files.length) throw fail('files lists a path twice');
  if (input.recipients.length === 0) throw fail('recipients lists no age public key');
  if (input.recipients.includes(EXAMPLE_RECIPIENT))
    throw fail(
      `recipients holds the example key shipped with the runbooks (${EXAMPLE_RECIPIENT}), whose private key nobody has: put your own age public key there (age-keygen -o key.txt on a machine of your own, then age-keygen -y key.txt), e.g. in secrets_recipients of your environment`,
    );
};

export const secretsBackup: Action<SecretsBackupInput> = {
  name: 'secrets.backup',
  description:
    "Archives the listed secret files under `source` (tar with numeric owners and modes, plus a SHA256SUMS member of their content) and encrypts the archive on the server with age to the `recipients`' public keys, so only their private keys, kept off the server, decrypt it; uploads it as DEST/YYYY-MM-DDTHHMMSSZ/secrets.tar.age and writes manifest.json last: the file's size and sha256, and each secret file's path, mode, uid, gid and size (never a hash of its content). The plaintext is written nowhere but the step's private work folder. A listed file that is missing, unreadable, not a regular file (a symbolic link too) or not a path inside `source` is refused, naming it, and nothing is stored.",
  verifies:
    "secrets.tar.age, read back from the destination, has the manifest's size and sha256 and starts with the age header (age-encryption.org/v1) with exactly one X25519 stanza per recipient; the manifest's entries are exactly the listed files and its recipients the listed keys. (Decrypting needs the private key: secrets.restore proves that.)",
  requires: (input) => ['age', 'rclone', 'jq', 'sha256sum', 'tar', ...signingRequires(input)],
  destructive: () => false,
  expand: (input, context) => {
    checkInput(input, context.stepId);
    const arrays = [arrayLine('FILES', input.files), arrayLine('RECIPIENTS', input.recipients)];
    const inputs = { SOURCE: input.source, TO: input.to, ...signingValues(input) };
    return {
      run: callShell('rb_secrets_backup_run', { ...inputs, RB_RUNBOOK: context.runbook, RB_STEP: context.stepId }, arrays),
      verify: { run: callShell('rb_secrets_backup_verify', inputs, arrays) },
    };
  },
};
