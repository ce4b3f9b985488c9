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
  verifies:
    "Every repository of the manifest exists under `to`, holds exactly the manifest's refs (same object ids, HEAD too) and `git fsck --full` is clean.",
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
      '# One jq start (about 15 ms each) for the checksums and every repository with its HEAD.',
      `jq -r 'if .kind != "git" then error("not a git backup (kind \\(.kind))") else
  (.files[] | "S \\(.sha256)  \\(.name)"), (.heads as $heads | .refs | keys[] | "R \\(.)\\t\\($heads[.] // "")") end' "$work/manifest.json" > "$work/fields"`,
      `sed -n 's/^S //p' "$work/fields" > "$work/SHA256SUMS"`,
      `sed -n 's/^R //p' "$work/fields" > "$work/repositories.tsv"`,
      'if [ -s "$work/SHA256SUMS" ]; then (cd "$work/backup" && sha256sum --check --quiet --strict "$work/SHA256SUMS"); fi',
      checkRefsShell(),
      'cut -f 1 "$work/repositories.tsv" > "$work/repositories.txt"',
      '',
      '# Fail before touching anything when a repository exists with other refs.',
      'while IFS= read -r repo; do',
      '  if [ -e "$to/$repo" ] && ! (check_refs "$to/$repo" "$repo") > /dev/null 2>&1; then',
      '    echo "$to/$repo already exists with other refs: not overwriting it" >&2; exit 1',
      '  fi',
      'done < "$work/repositories.txt"',
      '',
      "while IFS=$'\\t' read -r repo head; do",
      '  [ ! -e "$to/$repo" ] || continue',
      '  mkdir -p "$(dirname "$to/$repo")"',
      '  if [ -f "$work/backup/bundles/$repo.bundle" ]; then',
      '    git clone --quiet --mirror "$work/backup/bundles/$repo.bundle" "$to/$repo.partial"',
      '    git -C "$to/$repo.partial" config --remove-section remote.origin # a plain bare repository, not a mirror of the bundle',
      '  else',
      '    git init --quiet --bare "$to/$repo.partial"',
      '  fi',
      '  if [ -n "$head" ]; then git -C "$to/$repo.partial" symbolic-ref HEAD "$head"; fi',
      '  mv "$to/$repo.partial" "$to/$repo"',
      'done < "$work/repositories.tsv"',
      'echo "restored $(wc -l < "$work/repositories.txt") repositories of $backup into $to"',
    ].join('\n'),
    verify: {
      run: [
        shellAssignments({ from: input.from, to: input.to }),
        scratchShell(),
        backupOfRunShell(input.backup ?? 'latest', 'from'),
        'rclone cat "$from/$backup/manifest.json" > "$work/manifest.json"',
        '# Every ref the manifest recorded (HEAD too, where it recorded one) resolves to the same object, and',
        '# no repository has others: one jq start and one diff for all repositories, not two and one each.',
        `jq -r '.refs | to_entries[] | .key as $repo | "R\\t\\($repo)", (.value | to_entries[] | "E\\t\\($repo)\\t\\(.value) \\(.key)")' "$work/manifest.json" > "$work/fields"`,
        `sed -n 's/^R\\t//p' "$work/fields" > "$work/repositories.txt"`,
        `sed -n 's/^E\\t//p' "$work/fields" | LC_ALL=C sort > "$work/expected-refs"`,
        'declare -A with_head=()',
        "while IFS=$'\\t' read -r repo ref; do [[ $ref != *' HEAD' ]] || with_head[$repo]=1; done < \"$work/expected-refs\"",
        ': > "$work/actual-refs"',
        'while IFS= read -r repo; do',
        '  git -C "$to/$repo" fsck --full --no-progress',
        '  # show-ref exits 1 for a repository without refs; --head adds HEAD when it resolves.',
        '  refs=$(git -C "$to/$repo" show-ref --head || true)',
        '  while read -r oid ref; do',
        '    [ -n "$ref" ] || continue',
        '    [ "$ref" != HEAD ] || [ -n "${with_head[$repo]:-}" ] || continue',
        '    printf \'%s\\t%s %s\\n\' "$repo" "$oid" "$ref"',
        '  done <<< "$refs" >> "$work/actual-refs"',
        'done < "$work/repositories.txt"',
        'LC_ALL=C sort -o "$work/actual-refs" "$work/actual-refs"',
        'if ! diff "$work/expected-refs" "$work/actual-refs"; then',
        '  echo "the restored repositories under $to do not hold exactly the refs of $from/$backup (< manifest, > repository)" >&2',
        '  exit 1',
        'fi',
        'echo "verified $(wc -l < "$work/repositories.txt") repositories under $to: git fsck --full is clean, every ref equals $from/$backup"',
      ].join('\n'),
    },
  }),
};
