// files.restore: copies a files backup (latest complete, or an id) into a directory tree. Files
// already there and not in the backup are left alone; files in the backup are written over; files
// and folders get the owners and modes the manifest recorded.
import type { FilesRestoreInput } from '../../runbook/schema.generated.js';
import { callShell, type Action } from '../action.js';

export const filesRestore: Action<FilesRestoreInput> = {
  name: 'files.restore',
  description:
    "Copies the files of a backup (`latest` complete one, or an id) into a directory tree, creates its folders (empty ones too), recreates its symbolic links with their recorded target, and gives every file and folder the manifest's numeric uid, gid and mode and every link its uid and gid (`chown -h`; a link is never chmod'ed nor followed; needs root; older manifests without them change no owner); files there that the backup lacks are kept. A tree holding a symbolic link where the backup has a folder or file is refused before anything is written.",
  verifies:
    "The manifest lists at least one file; every one is in the tree with the manifest's size and sha256 and, when recorded, uid, gid and mode; every symbolic link is a link with its recorded target, uid and gid; every recorded folder has its uid, gid and mode; and `rclone check` finds every backed-up file in the tree. A failure names the first 20 differences.",
  requires: () => ['rclone', 'jq', 'sha256sum', 'find', 'xargs'],
  destructive: () => false,
  expand: (input) => {
    const inputs = { FROM: input.from, TO: input.to, BACKUP: input.backup ?? 'latest' };
    return { run: callShell('rb_files_restore_run', inputs), verify: { run: callShell('rb_files_restore_verify', inputs) } };
  },
};
