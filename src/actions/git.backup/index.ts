// git.backup: every bare repository under a folder (Gitea's owner/repo.git) as a `git bundle --all`
// in a new backup folder, with a manifest of every ref, written last (run.sh and verify.sh say how).
import type { GitBackupInput } from '../../runbook/schema.generated.js';
import { callShell, type Action } from '../action.js';

export const gitBackup: Action<GitBackupInput> = {
  name: 'git.backup',
  description:
    "Bundles every bare repository under `repositories` (`git bundle create --all`, found recursively) into a new backup folder DEST/YYYY-MM-DDTHHMMSSZ/bundles/ and writes manifest.json (bundles' sha256, every ref per repository) last.",
  verifies:
    "The uploaded bundles are fetched back: their sha256 equals the manifest's, `git bundle verify` passes, a mirror clone of each is `git fsck --full` clean and holds exactly the manifest's refs.",
  requires: () => ['git', 'rclone', 'jq', 'sha256sum'],
  destructive: () => false,
  expand: (input, context) => ({
    run: callShell('rb_git_backup_run', {
      REPOSITORIES: input.repositories,
      TO: input.to,
      RB_RUNBOOK: context.runbook,
      RB_STEP: context.stepId,
    }),
    verify: { run: callShell('rb_git_backup_verify', { TO: input.to }) },
  }),
};
