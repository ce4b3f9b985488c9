// git.backup: every bare repository under a folder (Gitea's owner/repo.git) as a `git bundle --all`
// plus a tar of what a bundle lacks (hooks, config, description), in a new backup folder, with a
// manifest of every ref and the repositories' owners, written last (run.sh and verify.sh say how).
import type { GitBackupInput } from '../../runbook/schema.generated.js';
import { callShell, type Action } from '../action.js';
import { signingRequires, signingValues } from '../signing.js';

export const gitBackup: Action<GitBackupInput> = {
  name: 'git.backup',
  description:
    "Bundles every bare repository under `repositories` (`git bundle create --all`, found recursively; repositories of another user are read as root too) into a new backup folder DEST/YYYY-MM-DDTHHMMSSZ/bundles/, with each repository's `hooks/`, `config` and `description` in metadata/OWNER/REPO.git.tar, and writes manifest.json (the files' sha256, every ref, HEAD, owner uid:gid and each hook's mode and sha256 per repository) last. Fails, naming the repository and git's error, on any repository git cannot read, and when the backup lacks a repository or a ref it found.",
  verifies:
    "The uploaded files are fetched back: their sha256 equals the manifest's, `git bundle verify` passes, a mirror clone of each bundle is `git fsck --full` clean and holds exactly the manifest's refs, each tar holds exactly the manifest's hooks, config and description; the manifest lists repositories, every repository under `repositories` and refs for each that has refs (only those created or first pushed to after the backup started may be missing).",
  requires: (input) => ['git', 'rclone', 'jq', 'sha256sum', 'tar', ...signingRequires(input)],
  destructive: () => false,
  expand: (input, context) => ({
    run: callShell('rb_git_backup_run', {
      REPOSITORIES: input.repositories,
      TO: input.to,
      ...signingValues(input),
      RB_RUNBOOK: context.runbook,
      RB_STEP: context.stepId,
    }),
    verify: { run: callShell('rb_git_backup_verify', { REPOSITORIES: input.repositories, TO: input.to, ...signingValues(input) }) },
  }),
};
