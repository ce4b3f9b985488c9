// files.backup: a directory tree (storage buckets, DAM originals) copied into DEST/ID/files/ with a
// manifest of every file's size and sha256, written last.
//
// A file that changes while the backup runs: the source is listed with sha256 before and after the
// copy; when the two listings differ, the copy (a sync into this backup's own folder, so only the
// changed files move) and the listing are repeated, at most 3 rounds, then the step fails. The
// manifest is the listing that held across a whole copy-and-check, so it describes what was stored.
//
// What the checks rely on: `rclone check` compares sizes and, when both sides share a hash, that
// hash — MD5 between a local tree and S3, which rclone records for every object it uploads (the
// ETag of single-part uploads, metadata for multipart ones). A check that could compare no hash
// says "hashes could not be checked"; the verification treats that as a failure. `--fast-list`
// lists a tree in one recursive listing: fewer S3 requests (and per-directory listing of rclone
// 1.60 against s3rver misses files).
import type { Action } from './action.js';
import type { FilesBackupInput } from '../runbook/schema.generated.js';
import { shellAssignments } from '../shell/quote.js';
import { backupOfRunShell, scratchShell, shellArray, startBackupShell, writeManifestShell } from '../backup/shell.js';

const filtersShell = (input: FilesBackupInput) =>
  [
    '# rclone filters: what stays out of the backup, its manifest and its checks',
    shellArray(
      'filters',
      (input.exclude ?? []).flatMap((pattern) => ['--exclude', pattern]),
    ),
  ].join('\n');

const listSourceShell = [
  '# Every file under $source (filters applied): name in the backup folder, size, sha256 (hashed here, locally).',
  'list_source() {',
  `  rclone lsjson -R --fast-list --files-only --hash --hash-type sha256 "\${filters[@]}" "$source" |`,
  `    jq -c 'map({name: ("files/" + .Path), bytes: .Size, sha256: .Hashes.sha256}) | sort_by(.name)'`,
  '}',
].join('\n');

/** `rclone check` that also fails when no hash could be compared (sizes alone prove little). */
const strictCheckShell = (args: string) =>
  [
    `rclone check --fast-list "\${filters[@]}" ${args} 2>&1 | tee "$work/check.log"`,
    `if grep -q 'hashes could not be checked' "$work/check.log"; then echo "rclone check could compare sizes only, not hashes" >&2; exit 1; fi`,
  ].join('\n');

export const filesBackup: Action<FilesBackupInput> = {
  name: 'files.backup',
  description:
    "Copies a directory tree (minus `exclude` filters) into a new backup folder DEST/YYYY-MM-DDTHHMMSSZ/files/ and writes manifest.json (every file's size and sha256) last; files that change during the copy are copied again.",
  verifies:
    "`rclone check` of the source against the backup reports no differences (hashes compared), and the stored files are exactly the manifest's, with its sizes.",
  requires: () => ['rclone', 'jq', 'cmp'],
  destructive: () => false,
  expand: (input, context) => ({
    run: [
      shellAssignments({ source: input.source, to: input.to }),
      filtersShell(input),
      startBackupShell(),
      'dest="$to/$id"',
      '',
      listSourceShell,
      '',
      '# Copy and check; a listing that differs before and after means a file changed meanwhile: go again.',
      'list_source > "$work/before.json"',
      'for round in 1 2 3; do',
      `  rclone sync --fast-list --stats "\${RUNBOOK_PROGRESS_INTERVAL:-5}s" --stats-one-line --stats-log-level NOTICE "\${filters[@]}" "$source" "$dest/files"`,
      `  rclone check --fast-list "\${filters[@]}" "$source" "$dest/files"`,
      '  list_source > "$work/after.json"',
      '  if cmp -s "$work/before.json" "$work/after.json"; then break; fi',
      '  if [ "$round" = 3 ]; then echo "files under $source kept changing during the backup" >&2; exit 1; fi',
      '  mv "$work/after.json" "$work/before.json"',
      'done',
      '',
      '# The manifest goes last: until it exists the folder is an incomplete backup.',
      writeManifestShell(
        'files',
        context.runbook,
        context.stepId,
        ['--arg source "$source"', '--slurpfile files "$work/after.json"'],
        '{source: {path: $source}, files: $files[0]}',
      ),
      'rclone copyto "$work/manifest.json" "$dest/manifest.json"',
      'echo "backed up $(jq \'.files | length\' "$work/manifest.json") files to $dest"',
    ].join('\n'),
    verify: {
      run: [
        shellAssignments({ source: input.source, to: input.to }),
        filtersShell(input),
        scratchShell(),
        backupOfRunShell('latest', 'to'),
        'dest="$to/$backup"',
        'rclone cat "$dest/manifest.json" > "$work/manifest.json"',
        strictCheckShell('"$source" "$dest/files"'),
        "# The stored files are exactly the manifest's, with the same sizes.",
        `rclone lsjson -R --fast-list --files-only "$dest/files" | jq -c 'map({name: ("files/" + .Path), bytes: .Size}) | sort_by(.name)' > "$work/stored.json"`,
        `jq -c '.files | map({name, bytes}) | sort_by(.name)' "$work/manifest.json" > "$work/listed.json"`,
        'diff "$work/listed.json" "$work/stored.json"',
      ].join('\n'),
    },
  }),
};
