// git.restore: recreates the bare repositories of a git backup under `to` (owner/repo.git), each a
// plain bare repository again: mirror-cloned from its bundle, the clone's remote removed, HEAD set
// to the branch it named. A repository already there is left alone when its refs are the backup's
// (a re-run after an interruption) and is an error otherwise: nothing is overwritten.
// Gitea keeps hooks in each repository: run `gitea admin regenerate hooks` after a restore.
import type { Action } from './action.js';
import type { GitRestoreInput } from '../runbook/schema.generated.js';
import { shellAssignments } from '../shell/quote.js';
import { backupOfRunShell, resolveLatestShell, scratchShell } from '../backup/shell.js';
import { checkRefsShell } from '../backup/git-shell.js';

export const gitRestore: Action<GitRestoreInput> = {
  name: 'git.restore',
  description:
    'Recreates the bare repositories of a git backup (`latest` complete one, or an id) under `to` from their bundles; existing repositories with other refs are never overwritten.',
  verifies: 'Every repository of the manifest exists under `to`, holds exactly the manifest\'s refs (same object ids, HEAD too) and `git fsck --full` is clean.',
  requires: () => ['git', 'rclone', 'jq', 'sha256sum'],
  destructive: () => false,
  expand: (input) => ({
    run: [
      shellAssignments({ from: input.from, to: input.to, backup: input.backup ?? 'latest' }),
      scratchShell(),
      resolveLatestShell('from'),
      'echo "backup=$backup" >> "${RUNBOOK_OUTPUT:-/dev/null}"',
      'rclone copy --fast-list "$from/$backup" "$work/backup"',
      '[ -f "$work/backup/manifest.json" ] || { echo "$from/$backup has no manifest.json: not a complete backup" >&2; exit 1; }',
      'cp "$work/backup/manifest.json" "$work/manifest.json"',
      `jq -e '.kind == "git"' "$work/manifest.json" > /dev/null`,
      `jq -r '.files[] | "\\(.sha256)  \\(.name)"' "$work/manifest.json" > "$work/SHA256SUMS"`,
      'if [ -s "$work/SHA256SUMS" ]; then (cd "$work/backup" && sha256sum --check --quiet --strict "$work/SHA256SUMS"); fi',
      checkRefsShell(),
      `jq -r '.refs | keys[]' "$work/manifest.json" > "$work/repositories.txt"`,
      '',
      '# Fail before touching anything when a repository exists with other refs.',
      'while IFS= read -r repo; do',
      '  if [ -e "$to/$repo" ] && ! (check_refs "$to/$repo" "$repo") > /dev/null 2>&1; then',
      '    echo "$to/$repo already exists with other refs: not overwriting it" >&2; exit 1',
      '  fi',
      'done < "$work/repositories.txt"',
      '',
      'while IFS= read -r repo; do',
      '  [ ! -e "$to/$repo" ] || continue',
      '  mkdir -p "$(dirname "$to/$repo")"',
      '  if [ -f "$work/backup/bundles/$repo.bundle" ]; then',
      '    git clone --quiet --mirror "$work/backup/bundles/$repo.bundle" "$to/$repo.partial"',
      '    git -C "$to/$repo.partial" config --remove-section remote.origin # a plain bare repository, not a mirror of the bundle',
      '  else',
      '    git init --quiet --bare "$to/$repo.partial"',
      '  fi',
      `  head=$(jq -r --arg repo "$repo" '.heads[$repo] // empty' "$work/manifest.json")`,
      '  if [ -n "$head" ]; then git -C "$to/$repo.partial" symbolic-ref HEAD "$head"; fi',
      '  mv "$to/$repo.partial" "$to/$repo"',
      'done < "$work/repositories.txt"',
      'echo "restored $(wc -l < "$work/repositories.txt") repositories of $backup into $to"',
    ].join('\n'),
    verify: {
      run: [
        shellAssignments({ from: input.from, to: input.to }),
        scratchShell(),
        backupOfRunShell(input.backup ?? 'latest', 'from'),
        'rclone cat "$from/$backup/manifest.json" > "$work/manifest.json"',
        checkRefsShell(),
        `jq -r '.refs | keys[]' "$work/manifest.json" > "$work/repositories.txt"`,
        'while IFS= read -r repo; do',
        '  git -C "$to/$repo" fsck --full --no-progress',
        '  check_refs "$to/$repo" "$repo"',
        'done < "$work/repositories.txt"',
      ].join('\n'),
    },
  }),
};
