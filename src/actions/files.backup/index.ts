// files.backup: a directory tree (storage buckets, DAM originals) copied into DEST/ID/files/ with a
// manifest of every file's size and sha256, written last (run.sh and verify.sh say how).
import type { FilesBackupInput } from '../../runbook/schema.generated.js';
import { shellQuote } from '../../shell/quote.js';
import { callShell, type Action } from '../action.js';

/** `EXCLUDE=(…)`: the rclone filter patterns as a bash array, each word quoted. */
const excludeLine = (patterns: readonly string[]): string => `EXCLUDE=(${patterns.map((pattern) => shellQuote(pattern)).join(' ')})`;

export const filesBackup: Action<FilesBackupInput> = {
  name: 'files.backup',
  description:
    "Copies a directory tree (minus `exclude` filters) into a new backup folder DEST/YYYY-MM-DDTHHMMSSZ/files/ and writes manifest.json (every file's size and sha256) last; files that change during the copy are copied again.",
  verifies:
    "`rclone check` of the source against the backup reports no differences (hashes compared), and the stored files are exactly the manifest's, with its sizes.",
  requires: () => ['rclone', 'jq', 'cmp'],
  destructive: () => false,
  expand: (input, context) => {
    const inputs = { SOURCE: input.source, TO: input.to };
    const exclude = [excludeLine(input.exclude ?? [])];
    return {
      run: callShell('rb_files_backup_run', { ...inputs, RB_RUNBOOK: context.runbook, RB_STEP: context.stepId }, exclude),
      verify: { run: callShell('rb_files_backup_verify', inputs, exclude) },
    };
  },
};
