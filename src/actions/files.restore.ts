// files.restore: copies a files backup (latest complete, or an id) into a directory tree. Files
// already there and not in the backup are left alone; files in the backup are written over.
import type { Action } from './action.js';
import type { FilesRestoreInput } from '../runbook/schema.generated.js';
import { shellAssignments } from '../shell/quote.js';
import { backupOfRunShell, resolveLatestShell, scratchShell } from '../backup/shell.js';

export const filesRestore: Action<FilesRestoreInput> = {
  name: 'files.restore',
  description:
    'Copies the files of a backup (`latest` complete one, or an id) into a directory tree; files there that the backup lacks are kept.',
  verifies: "`rclone check` finds every backed-up file in the tree, and every file's sha256 equals the manifest's (`sha256sum -c`).",
  requires: () => ['rclone', 'jq', 'sha256sum'],
  destructive: () => false,
  expand: (input) => ({
    run: [
      shellAssignments({ from: input.from, to: input.to, backup: input.backup ?? 'latest' }),
      scratchShell(),
      resolveLatestShell('from'),
      'echo "backup=$backup" >> "${RUNBOOK_OUTPUT:-/dev/null}"',
      '# Only a complete backup (its manifest exists and parses) is restored.',
      'rclone cat "$from/$backup/manifest.json" > "$work/manifest.json"',
      `files=$(jq -r 'if .kind != "files" then error("not a files backup (kind \\(.kind))") else .files | length end' "$work/manifest.json")`,
      'mkdir -p "$to"',
      'rclone copy --fast-list --stats "${RUNBOOK_PROGRESS_INTERVAL:-5}s" --stats-one-line --stats-log-level NOTICE "$from/$backup/files" "$to"',
      'echo "restored $files files of $backup into $to"',
    ].join('\n'),
    verify: {
      run: [
        shellAssignments({ from: input.from, to: input.to }),
        scratchShell(),
        backupOfRunShell(input.backup ?? 'latest', 'from'),
        '# The two checks are independent: rclone check runs while the manifest downloads and sha256sum reads the tree.',
        'rclone check --fast-list --one-way "$from/$backup/files" "$to" 2> "$work/check.log" &',
        'check_pid=$!',
        `trap '[ -z "$check_pid" ] || kill "$check_pid" 2> /dev/null; rm -rf "$work"' EXIT`,
        'rclone cat "$from/$backup/manifest.json" > "$work/manifest.json"',
        `jq -r '.files[] | "\\(.sha256)  \\(.name | ltrimstr("files/"))"' "$work/manifest.json" > "$work/SHA256SUMS"`,
        'if [ -s "$work/SHA256SUMS" ]; then (cd "$to" && sha256sum --check --quiet --strict "$work/SHA256SUMS"); fi',
        'checked=true',
        'wait "$check_pid" || checked=false',
        'check_pid=',
        'cat "$work/check.log" >&2',
        '[ "$checked" = true ]',
      ].join('\n'),
    },
  }),
};
