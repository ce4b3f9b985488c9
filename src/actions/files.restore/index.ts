// files.restore: copies a files backup (latest complete, or an id) into a directory tree. Files
// already there and not in the backup are left alone; files in the backup are written over.
import type { FilesRestoreInput } from '../../runbook/schema.generated.js';
import { callShell, type Action } from '../action.js';

export const filesRestore: Action<FilesRestoreInput> = {
  name: 'files.restore',
  description:
    'Copies the files of a backup (`latest` complete one, or an id) into a directory tree; files there that the backup lacks are kept.',
  verifies: "`rclone check` finds every backed-up file in the tree, and every file's sha256 equals the manifest's (`sha256sum -c`).",
  requires: () => ['rclone', 'jq', 'sha256sum'],
  destructive: () => false,
  expand: (input) => {
    const inputs = { FROM: input.from, TO: input.to, BACKUP: input.backup ?? 'latest' };
    return { run: callShell('rb_files_restore_run', inputs), verify: { run: callShell('rb_files_restore_verify', inputs) } };
  },
};
