// secrets.restore: decrypts a secrets backup (secrets.backup) with an age identity held in a declared
// secret and writes its files into a folder with their recorded modes and owners, every check made
// before anything there is touched (run.sh and verify.sh say how; lib/secrets.sh describes the backup).
import { usageError } from '../../errors.js';
import type { SecretsRestoreInput } from '../../runbook/schema.generated.js';
import { callShell, trustRequires, trustValues, type Action } from '../action.js';

export const secretsRestore: Action<SecretsRestoreInput> = {
  name: 'secrets.restore',
  description:
    "Fetches a secrets backup (`latest` complete one, or an id), checks its size and sha256 against the manifest before decrypting, decrypts it with the age identity in the secret `key_secret` names (written only to a private 0600 file, never to a command line or the log), refuses an archive holding anything but the manifest's entries as regular files at paths inside the folder, checks every file against the archive's SHA256SUMS, and only then writes each file into `to` atomically (a temporary file beside it, then a rename) with its recorded mode and uid:gid (needs root), creating folders above it. Nothing in `to` is touched when a check fails, nor when `to` holds a symbolic link or other non-folder where the backup has a folder, or a link or non-file where it has a file. Files there that the backup lacks are kept; files it has are overwritten.",
  verifies:
    "Decrypting the backup again, every file of its archive is in `to` as a regular file with the archive's sha256, mode and uid:gid; each difference is reported by path.",
  requires: (input) => ['age', 'rclone', 'jq', 'sha256sum', 'tar', ...trustRequires(input)],
  // It overwrites the files it restores: a step using it needs `confirm`.
  destructive: () => true,
  expand: (input, context) => {
    if (!context.secrets.includes(input.key_secret))
      throw usageError(
        `step ${context.stepId}: secrets.restore: key_secret '${input.key_secret}' is not a declared secret; add it to the runbook's secrets`,
      );
    const inputs = {
      FROM: input.from,
      BACKUP: input.backup ?? 'latest',
      KEY_SECRET: input.key_secret,
      TO: input.to,
      ...trustValues(input),
    };
    // The secret's value is read from the environment by reference, before the inputs' assignments
    // (so an input's name cannot shadow it): never its value in the text.
    const identity = `IDENTITY="\${${input.key_secret}}"`;
    return {
      run: [identity, callShell('rb_secrets_restore_run', inputs)].join('\n'),
      verify: { run: [identity, callShell('rb_secrets_restore_verify', inputs)].join('\n') },
    };
  },
};
