// files.restore: copies a files backup (latest complete, or an id) into a directory tree. Files
// already there and not in the backup are left alone; files in the backup are written over; files
// and folders get the owners and modes the manifest recorded.
import type { FilesRestoreInput } from '../../runbook/schema.generated.js';
import { callShell, trustRequires, trustValues, type Action } from '../action.js';

export const filesRestore: Action<FilesRestoreInput> = {
  name: 'files.restore',
  description:
    "Copies the files of a backup (the newest trusted complete one for `latest`, or an id; trusted: complete, signed by a key of `signers` unless `allow_unsigned`) into a directory tree, after downloading only the files its manifest lists into a private staging folder beside the tree and proving each one's size and sha256 (nothing is written to the tree otherwise); creates its folders (empty ones too), recreates its symbolic links with their recorded target, and gives every file and folder the manifest's numeric uid, gid and mode and every link its uid and gid (`chown -h`; a link is never chmod'ed nor followed; needs root; older manifests without them change no owner); files there that the backup lacks are kept. A tree holding a symbolic link where the backup has a folder or file is refused before anything is written.",
  verifies:
    "The manifest lists at least one file; every one is in the tree with the manifest's size and sha256 and, when recorded, uid, gid and mode; every symbolic link is a link with its recorded target, uid and gid; every recorded folder has its uid, gid and mode; all compared with the trusted manifest. A failure names the first 20 differences.",
  requires: (input) => ['rclone', 'jq', 'sha256sum', 'find', 'xargs', ...trustRequires(input)],
  destructive: () => false,
  expand: (input) => {
    const inputs = { FROM: input.from, TO: input.to, BACKUP: input.backup ?? 'latest', ...trustValues(input) };
    return { run: callShell('rb_files_restore_run', inputs), verify: { run: callShell('rb_files_restore_verify', inputs) } };
  },
};
