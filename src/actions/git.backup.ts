// git.backup: every bare repository under a folder (Gitea's owner/repo.git, found recursively) as a
// `git bundle --all`: one consistent snapshot of its refs and the objects they need, whatever a push
// or gc does meanwhile (git never exposes a half-written pack). The manifest, written last, records
// every ref → object id as the bundle holds it, and each repository's symbolic HEAD.
import type { Action } from './action.js';
import type { GitBackupInput } from '../runbook/schema.generated.js';
import { shellAssignments } from '../shell/quote.js';
import { backupOfRunShell, scratchShell, startBackupShell, writeManifestShell } from '../backup/shell.js';
import { checkRefsShell } from '../backup/git-shell.js';

export const gitBackup: Action<GitBackupInput> = {
  name: 'git.backup',
  description:
    "Bundles every bare repository under `repositories` (`git bundle create --all`, found recursively) into a new backup folder DEST/YYYY-MM-DDTHHMMSSZ/bundles/ and writes manifest.json (bundles' sha256, every ref per repository) last.",
  verifies:
    "The uploaded bundles are fetched back: their sha256 equals the manifest's, `git bundle verify` passes, a mirror clone of each is `git fsck --full` clean and holds exactly the manifest's refs.",
  requires: () => ['git', 'rclone', 'jq', 'sha256sum'],
  destructive: () => false,
  expand: (input, context) => ({
    run: [
      shellAssignments({ repositories: input.repositories, to: input.to }),
      startBackupShell(),
      'dest="$to/$id"',
      '',
      'cd "$repositories" || exit 1',
      `find . -type d -name '*.git' -prune -print | sed 's|^\\./||' | sort > "$work/repositories.txt"`,
      '[ -s "$work/repositories.txt" ] || { echo "no bare repositories (*.git) under $repositories" >&2; exit 1; }',
      ': > "$work/repositories.jsonl"',
      'while IFS= read -r repo; do',
      '  head=$(git -C "$repo" symbolic-ref -q HEAD || true)',
      '  if [ -n "$(git -C "$repo" for-each-ref --count=1)" ]; then',
      '    mkdir -p "$(dirname "$work/data/bundles/$repo")"',
      '    git -C "$repo" bundle create --quiet "$work/data/bundles/$repo.bundle" --all',
      `    refs=$(git bundle list-heads "$work/data/bundles/$repo.bundle" | jq -R -n '[inputs | capture("^(?<sha>[0-9a-f]+) (?<ref>.+)$") | {(.ref): .sha}] | add')`,
      '  else',
      `    refs='{}' # an empty repository: nothing to bundle; restored as an empty bare repository`,
      '  fi',
      `  jq -n -c --arg repo "$repo" --arg head "$head" --argjson refs "$refs" '{$repo, $head, $refs}' >> "$work/repositories.jsonl"`,
      'done < "$work/repositories.txt"',
      '',
      '# sha256 and size of every bundle, for the manifest.',
      'mkdir -p "$work/data"',
      'cd "$work/data" || exit 1',
      `find . -type f | sed 's|^\\./||' | sort | while IFS= read -r name; do`,
      `  jq -n -c --arg name "$name" --argjson bytes "$(stat -c %s "$name")" --arg sha256 "$(sha256sum < "$name" | cut -d ' ' -f 1)" '{$name, $bytes, $sha256}'`,
      'done > "$work/files.jsonl"',
      '',
      'rclone copy "$work/data" "$dest"',
      'rclone check --fast-list "$work/data" "$dest"',
      '',
      '# The manifest goes last: until it exists the folder is an incomplete backup.',
      writeManifestShell(
        'git',
        context.runbook,
        context.stepId,
        ['--arg source "$repositories"', '--slurpfile files "$work/files.jsonl"', '--slurpfile repos "$work/repositories.jsonl"'],
        `{source: {path: $source}, files: $files, refs: ($repos | map({(.repo): .refs}) | add), heads: ($repos | map(select(.head != "") | {(.repo): .head}) | add // {})}`,
      ),
      'rclone copyto "$work/manifest.json" "$dest/manifest.json"',
      'echo "backed up $(wc -l < "$work/repositories.txt") repositories to $dest"',
    ].join('\n'),
    verify: {
      run: [
        shellAssignments({ to: input.to }),
        scratchShell(),
        backupOfRunShell('latest', 'to'),
        'rclone copy --fast-list "$to/$backup" "$work/backup"',
        'cp "$work/backup/manifest.json" "$work/manifest.json"',
        `jq -r '.files[] | "\\(.sha256)  \\(.name)"' "$work/manifest.json" > "$work/SHA256SUMS"`,
        'if [ -s "$work/SHA256SUMS" ]; then (cd "$work/backup" && sha256sum --check --quiet --strict "$work/SHA256SUMS"); fi',
        checkRefsShell(),
        `jq -r '.refs | keys[]' "$work/manifest.json" > "$work/repositories.txt"`,
        'while IFS= read -r repo; do',
        `  if [ "$(jq --arg repo "$repo" '.refs[$repo] | length' "$work/manifest.json")" = 0 ]; then continue; fi`,
        '  git clone --quiet --mirror "$work/backup/bundles/$repo.bundle" "$work/check/$repo"',
        '  git -C "$work/check/$repo" bundle verify --quiet "$work/backup/bundles/$repo.bundle"',
        '  git -C "$work/check/$repo" fsck --full --no-progress',
        '  check_refs "$work/check/$repo" "$repo"',
        'done < "$work/repositories.txt"',
      ].join('\n'),
    },
  }),
};
