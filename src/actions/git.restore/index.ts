// git.restore: recreates the bare repositories of a git backup under `to` from their bundles, with
// their hooks, config, description and owner, never overwriting a repository that holds other refs
// (run.sh and verify.sh say how).
import type { GitRestoreInput } from '../../runbook/schema.generated.js';
import { callShell, trustRequires, trustValues, type Action } from '../action.js';

export const gitRestore: Action<GitRestoreInput> = {
  name: 'git.restore',
  description:
    "Recreates the bare repositories of a git backup (`latest` complete one, or an id) under `to` from their bundles, with the source's `hooks/` (content and modes, no git sample hooks), `config` and `description`, everything owned by the repository's recorded uid:gid (run it as root); existing repositories with other refs are never overwritten. Backups made before owners and hooks were recorded restore refs and HEAD only.",
  verifies:
    "Every repository of the manifest exists under `to`, holds exactly the manifest's refs (same object ids, HEAD too) and `git fsck --full` is clean; where the manifest records them, its `hooks/`, `config` and `description` equal the manifest's (content, type, mode) and every file in it is owned by the recorded uid:gid.",
  requires: (input) => ['git', 'rclone', 'jq', 'sha256sum', 'tar', ...trustRequires(input)],
  destructive: () => false,
  expand: (input) => {
    const inputs = { FROM: input.from, TO: input.to, BACKUP: input.backup ?? 'latest', ...trustValues(input) };
    return { run: callShell('rb_git_restore_run', inputs), verify: { run: callShell('rb_git_restore_verify', inputs) } };
  },
};
