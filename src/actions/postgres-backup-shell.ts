// Shell fragments the postgres dump and restore share: finding a complete backup folder and
// comparing row counts with a manifest. Plain text, inlined into each step's shell.

/** The backup folder names: one-second UTC timestamps, which sort chronologically. */
export const BACKUP_ID_PATTERN = '[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{6}Z';

/** Sets `BACKUP` to the newest folder under `$LOCATION` that holds a manifest.json when it says `latest`. */
const resolveLatestShell = (action: string): string => `if [ "$BACKUP" = latest ]; then
  # One recursive listing: complete backups are the folders holding a manifest.json.
  if ! LISTING="$(rclone lsf -R --max-depth 2 --files-only "$LOCATION")"; then
    echo "${action}: cannot list $LOCATION" >&2
    exit 1
  fi
  BACKUP="$(printf '%s\\n' "$LISTING" | sed -n -E 's:^(${BACKUP_ID_PATTERN})/manifest\\.json$:\\1:p' | sort | tail -n 1)"
  if [ -z "$BACKUP" ]; then
    echo "${action}: no complete backup (a folder with manifest.json) under $LOCATION" >&2
    exit 1
  fi
fi`;

/**
 * Sets `BACKUP` like {@link resolveBackupShell}, then downloads the whole backup folder (its
 * manifest, data file and roles file: what the restore needs) with one `rclone copy` into
 * `$WORK/backup` and moves the manifest to `$WORK/manifest.json`. One rclone start instead of one
 * per file: each start costs tens of milliseconds. Nothing here is trusted yet: the caller checks
 * every file it uses against the manifest's sha256.
 */
export const fetchBackupShell = (action: string): string => `${resolveLatestShell(action)}
# --ignore-checksum: rclone's own md5 check would stop at a damaged object with a transfer error
# (and retry it), where the caller's sha256 check against the manifest names the file and refuses.
COPIED=true
rclone copy --fast-list --ignore-checksum "$LOCATION/$BACKUP" "$WORK/backup" 2> "$WORK/rclone.err" || COPIED=false
if [ ! -s "$WORK/backup/manifest.json" ]; then
  cat "$WORK/rclone.err" >&2
  echo "${action}: backup $LOCATION/$BACKUP not found or incomplete (no manifest.json)" >&2
  exit 1
fi
if [ "$COPIED" != true ]; then
  cat "$WORK/rclone.err" >&2
  echo "${action}: cannot download $LOCATION/$BACKUP" >&2
  exit 1
fi
mv "$WORK/backup/manifest.json" "$WORK/manifest.json"`;

/**
 * Sets `BACKUP` to the newest folder under `$LOCATION` that holds a manifest.json when it says
 * `latest` (a folder without one is an incomplete backup and never used), then fetches that
 * manifest into `$WORK/manifest.json`. Fails with a message naming the remote path.
 */
export const resolveBackupShell = (action: string): string => `${resolveLatestShell(action)}
if ! rclone cat "$LOCATION/$BACKUP/manifest.json" > "$WORK/manifest.json" 2> "$WORK/rclone.err" || [ ! -s "$WORK/manifest.json" ]; then
  cat "$WORK/rclone.err" >&2
  echo "${action}: backup $LOCATION/$BACKUP not found or incomplete (no manifest.json)" >&2
  exit 1
fi`;

/**
 * Compares `$COUNTS` (a JSON object of exact row counts) with the manifest's `tables`: prints
 * `schema.table: expected N, got M` for every table that differs and exits 1.
 */
export const compareCountsShell = (action: string, where: string): string => `jq -r --argjson got "$COUNTS" '.tables | to_entries[]
  | select($got[.key] != .value)
  | "\\(.key): expected \\(.value), got \\($got[.key] // "no such table")"' "$WORK/manifest.json" > "$WORK/differences"
if [ -s "$WORK/differences" ]; then
  cat "$WORK/differences" >&2
  echo "${action}: row counts in ${where} differ from the manifest of $BACKUP" >&2
  exit 1
fi`;

/**
 * Like {@link compareCountsShell}, and also sets `TABLES` to the number of tables in the manifest:
 * one jq start for both (each costs about 15 ms with jq 1.6).
 */
export const compareCountsAndTablesShell = (
  action: string,
  where: string,
): string => `jq -r --argjson got "$COUNTS" '(.tables | to_entries[]
  | select($got[.key] != .value)
  | "\\(.key): expected \\(.value), got \\($got[.key] // "no such table")"), (.tables | length)' "$WORK/manifest.json" > "$WORK/differences"
mapfile -t DIFFERENCES < "$WORK/differences"
TABLES="\${DIFFERENCES[-1]}"
unset 'DIFFERENCES[-1]'
if [ "\${#DIFFERENCES[@]}" -gt 0 ]; then
  printf '%s\\n' "\${DIFFERENCES[@]}" >&2
  echo "${action}: row counts in ${where} differ from the manifest of $BACKUP" >&2
  exit 1
fi`;
