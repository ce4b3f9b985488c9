// files.backup: a directory tree (storage buckets, DAM originals) copied into DEST/ID/files/ with a
// manifest of every file's size, sha256, owner and mode, every symbolic link's target and owner and
// every folder's owner and mode, written last (run.sh and verify.sh say how).
import type { FilesBackupInput } from '../../runbook/schema.generated.js';
import { shellQuote } from '../../shell/quote.js';
import { callShell, type Action } from '../action.js';
import { signingRequires, signingValues } from '../signing.js';

/** `EXCLUDE=(…)`: the rclone filter patterns as a bash array, each word quoted. */
const excludeLine = (patterns: readonly string[]): string => `EXCLUDE=(${patterns.map((pattern) => shellQuote(pattern)).join(' ')})`;

export const filesBackup: Action<FilesBackupInput> = {
  name: 'files.backup',
  description:
    "Copies a directory tree (minus `exclude` filters) into a new backup folder DEST/YYYY-MM-DDTHHMMSSZ/files/ and writes manifest.json last: every file's size, sha256, uid, gid and mode, every symbolic link's target, uid and gid (links are stored as links, never followed), and every folder's uid, gid and mode (empty folders too); files that change during the copy are copied again. A source without files or links (not mounted, wrong path) is refused and nothing stored, unless `allow_empty: true`; so is one holding a file named *.rclonelink, which rclone cannot tell from a stored link.",
  verifies:
    "The manifest lists at least one file or link (unless `allow_empty: true`), `rclone check --links` of the source against the backup reports no differences (hashes compared; a link's target text), and the stored files and links are exactly the manifest's, with its sizes.",
  requires: (input) => ['rclone', 'jq', 'cmp', 'find', ...signingRequires(input)],
  destructive: () => false,
  expand: (input, context) => {
    const inputs = { SOURCE: input.source, TO: input.to, ALLOW_EMPTY: input.allow_empty ?? false, ...signingValues(input) };
    const exclude = [excludeLine(input.exclude ?? [])];
    return {
      run: callShell('rb_files_backup_run', { ...inputs, RB_RUNBOOK: context.runbook, RB_STEP: context.stepId }, exclude),
      verify: { run: callShell('rb_files_backup_verify', inputs, exclude) },
    };
  },
};
