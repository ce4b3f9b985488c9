// Shell fragments the backup and restore actions share, so every action names, finds and records
// backups the same way (DEST/YYYY-MM-DDTHHMMSSZ/, manifest.json last) in text a person can read.
import { shellQuote } from '../shell/quote.js';

/** Starts a backup: its id (UTC start time), a scratch folder removed on exit, and the id as a step output. */
export const startBackupShell = (): string =>
  [
    'now=$(date -u +%s)',
    'id=$(date -u -d "@$now" +%Y-%m-%dT%H%M%SZ)',
    'work=$(mktemp -d)',
    `trap 'rm -rf "$work"' EXIT`,
    'echo "backup=$id" >> "${RUNBOOK_OUTPUT:-/dev/null}"',
  ].join('\n');

/**
 * Sets `$backup` to the newest complete backup (a folder with manifest.json) under `$<fromVar>` when
 * it says `latest`; ids sort as times, so the last one listed is the newest.
 */
export const resolveLatestShell = (fromVar: string): string =>
  [
    'if [ "$backup" = latest ]; then',
    `  backup=$(rclone lsf -R --files-only --max-depth 2 --include '/*/manifest.json' "$${fromVar}" | sed -n 's|^\\([0-9]\\{4\\}-[0-9][0-9]-[0-9][0-9]T[0-9]\\{6\\}Z\\)/manifest.json$|\\1|p' | sort | tail -n 1)`,
    `  [ -n "$backup" ] || { echo "no complete backup (folder with manifest.json) under $${fromVar}" >&2; exit 1; }`,
    'fi',
  ].join('\n');

/** In a verify: the backup the step's run used (its `backup` output), else `fallback` (an id or latest). */
export const backupOfRunShell = (fallback: string, fromVar: string): string =>
  [
    `backup=$(sed -n 's/^backup=//p' "\${RUNBOOK_OUTPUT:-/dev/null}" | tail -n 1)`,
    `[ -n "$backup" ] || backup=${shellQuote(fallback)}`,
    resolveLatestShell(fromVar),
  ].join('\n');

/** A scratch folder removed when the shell exits. */
export const scratchShell = (): string => ['work=$(mktemp -d)', `trap 'rm -rf "$work"' EXIT`].join('\n');

/**
 * Writes `$work/manifest.json` from `$id`, `$now` and the runbook's identity (the engine exports
 * RUNBOOK_*; the defaults make the text run by hand too). `extra` is a jq object merged in.
 */
export const writeManifestShell = (kind: string, runbook: string, stepId: string, args: string[], extra: string): string => {
  // The fallbacks sit inside double quotes, where no quoting helps: only plain words go there.
  const plain = (word: string) => (/^[A-Za-z0-9._\/-]+$/.test(word) ? word : 'unknown');
  return [
    'jq -n \\',
    `  --arg kind ${kind} --arg id "$id" --arg created "$(date -u -d "@$now" +%Y-%m-%dT%H:%M:%SZ)" \\`,
    `  --arg runbook "\${RUNBOOK_NAME:-${plain(runbook)}}" --arg commit "\${RUNBOOK_COMMIT:-}" --arg run_id "\${RUNBOOK_RUN_ID:-}" --arg step "\${RUNBOOK_STEP:-${plain(stepId)}}" \\`,
    ...args.map((arg) => `  ${arg} \\`),
    `  '{format: "runbook-backup/1", kind: $kind, id: $id, created: $created, runbook: {name: $runbook, commit: $commit, run_id: $run_id, step: $step}} + ${extra}' \\`,
    '  > "$work/manifest.json"',
  ].join('\n');
};

/** `name=(word word …)`: a bash array assignment, each word quoted. */
export const shellArray = (name: string, words: readonly string[]): string =>
  `${name}=(${words.map((word) => shellQuote(word)).join(' ')})`;
