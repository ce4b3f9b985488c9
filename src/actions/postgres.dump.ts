// postgres.dump: one consistent snapshot of a database, compressed, checksummed and uploaded; the
// manifest goes last so a folder without one is visibly incomplete.
import type { Action } from './action.js';
import type { PostgresDumpInput } from '../runbook/schema.generated.js';
import { shellAssignments } from '../shell/quote.js';
import {
  countRowsSql,
  describeTarget,
  isContainerTarget,
  pgCommand,
  psqlCommand,
  targetAssignments,
  targetRequires,
} from './postgres-target.js';
import { resolveBackupShell } from './postgres-backup-shell.js';
import { ROLES_FILE } from './postgres-roles.js';

/** Compressor level when `level` is not given: zstd's fast default, gzip's own default. */
const defaultLevel = { zstd: 3, gzip: 6 } as const;

/** The data file's name inside the backup folder. */
export const dumpFileName = (format: 'plain' | 'custom', compress: 'zstd' | 'gzip'): string =>
  `dump.${format === 'plain' ? 'sql' : 'custom'}.${compress === 'zstd' ? 'zst' : 'gz'}`;

const compressorCommand = (compress: 'zstd' | 'gzip', level: number): string =>
  compress === 'zstd' ? `zstd -q -${level} -T2 -c` : `gzip -${level} -c`;

const sourceJson = (input: PostgresDumpInput): string =>
  isContainerTarget(input.target)
    ? `{database: $database, container: $container}`
    : `{database: $database, host: $host, port: ($port | tonumber)}`;

const sourceArgs = (input: PostgresDumpInput): string =>
  isContainerTarget(input.target) ? `--arg container "$PG_CONTAINER"` : `--arg host "$PG_HOST" --arg port "$PG_PORT"`;

const expandRun = (input: PostgresDumpInput): string => {
  const format = input.format ?? 'plain';
  const compress = input.compress ?? 'zstd';
  const level = input.level ?? defaultLevel[compress];
  const psql = psqlCommand(input.target);
  // -Z0: pg_dump's own zlib is single-threaded and slow; the compressor below does the work.
  const formatFlags = format === 'custom' ? ' -Fc -Z0' : '';
  return `# postgres.dump: ${format} dump of one snapshot | ${compress} -> staging file, then upload (with the cluster's roles, ${ROLES_FILE}) while its sha256 is taken, manifest.json last; the verification reads the stored bytes back.
${targetAssignments(input.target)}
${shellAssignments({ DATABASE: input.database, DEST: input.to, FORMAT: format, COMPRESS: compress, DUMP_FILE: dumpFileName(format, compress), ROLES_FILE })}
${input.staging === undefined ? 'STAGING="${TMPDIR:-/tmp}"' : shellAssignments({ STAGING: input.staging })}

NOW="$(date -u +%s)"
ID="$(date -u -d "@$NOW" +%Y-%m-%dT%H%M%SZ)"
CREATED="$(date -u -d "@$NOW" +%Y-%m-%dT%H:%M:%SZ)"
WORK="$(mktemp -d "$STAGING/runbook-pgdump.XXXXXX")"
# The staging files go whatever happens, and so do the helpers still running; the snapshot session
# ends when this shell does.
PROGRESS_PID="" ROLES_PID="" HASH_PID=""
# (Unquoted: the empty ones vanish; kill without a pid fails, which does not matter here.)
trap 'kill $PROGRESS_PID $ROLES_PID $HASH_PID 2>/dev/null || true; rm -rf "$WORK"' EXIT
# coreutils' sha256sum does not use the CPU's SHA instructions; openssl does (3x faster here), and
# every CPU second counts while pg_dump, the server and the compressor share the machine.
if command -v openssl > /dev/null; then
  sha256_of() { openssl dgst -sha256 -r "$1" | cut -d ' ' -f 1; }
else
  sha256_of() { sha256sum "$1" | cut -d ' ' -f 1; }
fi

# Hold one REPEATABLE READ transaction open: its snapshot is what pg_dump and the row counts see.
coproc SNAPSHOT_SESSION { ${psql} -q -At -d "$DATABASE"; }
SESSION_PID="$SNAPSHOT_SESSION_PID"
echo 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;' >&"\${SNAPSHOT_SESSION[1]}"
echo 'SELECT pg_export_snapshot();' >&"\${SNAPSHOT_SESSION[1]}"
read -r SNAPSHOT <&"\${SNAPSHOT_SESSION[0]}" || { echo "postgres.dump: cannot open a snapshot on $DATABASE at ${describeTarget(input.target)}" >&2; exit 1; }
echo 'SHOW server_version;' >&"\${SNAPSHOT_SESSION[1]}"
read -r SERVER_VERSION <&"\${SNAPSHOT_SESSION[0]}"
# Exact row counts, in the same snapshot, while pg_dump runs: in a database larger than memory
# their scans share pg_dump's reads (synchronized scans) instead of reading it all a second time.
cat >&"\${SNAPSHOT_SESSION[1]}" <<'SQL'
${countRowsSql}
SQL
# The cluster's roles, taken once the snapshot exists so every role owning an object in it is
# there: a fresh server lacks them, and postgres.restore creates the missing ones from this file.
# --no-role-passwords reads pg_roles instead of pg_authid, so no superuser is needed, and keeps
# password hashes out of the backup: restored login roles need their passwords set again. Beside
# the dump, not after it: it is a few catalog reads.
${pgCommand(input.target, 'pg_dumpall')} -w -l "$DATABASE" --roles-only --no-role-passwords > "$WORK/$ROLES_FILE" &
ROLES_PID=$!

# Progress of a long dump (bytes written and rate) every few seconds, from the staging file's size.
(
  started="$(date +%s)"
  # sleep gets no pipe of the step: killing this loop would otherwise leave it holding them open.
  while sleep "\${RUNBOOK_PROGRESS_INTERVAL:-5}" > /dev/null 2>&1 && kill -0 $$ 2>/dev/null; do
    written="$(stat -c %s "$WORK/$DUMP_FILE" 2>/dev/null || echo 0)"
    elapsed=$(( $(date +%s) - started ))
    echo "postgres.dump: $(( written / 1048576 )) MiB written, $(( written / 1048576 / (elapsed > 0 ? elapsed : 1) )) MiB/s"
  done
) &
PROGRESS_PID=$!
${pgCommand(input.target, 'pg_dump')} -w${formatFlags} --snapshot="$SNAPSHOT" -d "$DATABASE" \\
  | ${compressorCommand(compress, level)} > "$WORK/$DUMP_FILE"
kill "$PROGRESS_PID" 2>/dev/null || true
PROGRESS_PID=""
# The sha256 of the file as written, hashed from the page cache while the upload reads it too: a
# tee into the hash inside the pipeline copied every byte once more and cost more than this read.
sha256_of "$WORK/$DUMP_FILE" > "$WORK/sha256" &
HASH_PID=$!

wait "$ROLES_PID"
ROLES_PID=""
ROLES_BYTES="$(stat -c %s "$WORK/$ROLES_FILE")"
ROLES_SHA256="$(sha256_of "$WORK/$ROLES_FILE")"
BYTES="$(stat -c %s "$WORK/$DUMP_FILE")"

# The transaction ends as soon as the counts are in, not after a long upload.
read -r TABLES <&"\${SNAPSHOT_SESSION[0]}" || { echo "postgres.dump: counting rows in $DATABASE failed" >&2; exit 1; }
echo 'COMMIT;' >&"\${SNAPSHOT_SESSION[1]}"
echo '\\q' >&"\${SNAPSHOT_SESSION[1]}"
wait "$SESSION_PID"

# One rclone start for the dump and the roles (each start costs more than the roles' upload),
# one after the other by name (dump.* before roles.sql): a folder that holds the roles holds the
# whole dump. manifest.json and the hash stay behind.
# --checksum falls back to comparing sizes when the remote has no usable hash (multipart S3
# uploads); the step's verification reads the stored bytes back and compares their sha256 with
# the manifest's, so the run does not read them a second time.
# --stats: bytes, rate and ETA of a long upload every few seconds.
rclone copy --checksum --stats "\${RUNBOOK_PROGRESS_INTERVAL:-5}s" --stats-one-line --stats-log-level NOTICE \\
  --include "/$DUMP_FILE" --include "/$ROLES_FILE" --transfers 1 --order-by name,ascending "$WORK" "$DEST/$ID"
# The hash's failure fails the step too (wait returns its status under set -e).
wait "$HASH_PID"
HASH_PID=""
SHA256="$(cat "$WORK/sha256")"
echo "postgres.dump: $DATABASE -> $DUMP_FILE, $BYTES bytes, sha256 $SHA256"

jq -n \\
  --arg id "$ID" --arg created "$CREATED" --arg database "$DATABASE" ${sourceArgs(input)} \\
  --arg name "$DUMP_FILE" --argjson bytes "$BYTES" --arg sha256 "$SHA256" \\
  --arg roles_name "$ROLES_FILE" --argjson roles_bytes "$ROLES_BYTES" --arg roles_sha256 "$ROLES_SHA256" \\
  --argjson tables "$TABLES" --arg server_version "$SERVER_VERSION" \\
  --arg format "$FORMAT" --arg compress "$COMPRESS" \\
  --arg runbook "\${RUNBOOK_NAME:-}" --arg commit "\${RUNBOOK_COMMIT:-}" --arg run_id "\${RUNBOOK_RUN_ID:-}" --arg step "\${RUNBOOK_STEP:-}" \\
  '{format: "runbook-backup/1", kind: "postgres", id: $id, created: $created,
    source: ${sourceJson(input)},
    files: [{name: $name, bytes: $bytes, sha256: $sha256}, {name: $roles_name, bytes: $roles_bytes, sha256: $roles_sha256}],
    tables: $tables, server_version: $server_version,
    dump: {format: $format, compress: $compress},
    runbook: {name: $runbook, commit: $commit, run_id: $run_id, step: $step}}' > "$WORK/manifest.json"
rclone copyto --checksum "$WORK/manifest.json" "$DEST/$ID/manifest.json"

echo "postgres.dump: complete backup $DEST/$ID ($(jq 'length' <<< "$TABLES") tables)"
if [ -n "\${RUNBOOK_OUTPUT:-}" ]; then
  printf 'backup=%s\\npath=%s\\n' "$ID" "$DEST/$ID" >> "$RUNBOOK_OUTPUT"
fi`;
};

const expandVerify = (
  input: PostgresDumpInput,
): string => `# postgres.dump verify: each stored file's sha256 and size equal the manifest's (the dump, and ${ROLES_FILE} after it in backups that have one); row counts are recorded.
${shellAssignments({ LOCATION: input.to, ROLES_FILE })}
# The backup this step wrote (from its outputs), else the newest complete one.
BACKUP="$(sed -n 's/^backup=//p' "\${RUNBOOK_OUTPUT:-/dev/null}" | tail -n 1)"
BACKUP="\${BACKUP:-latest}"
WORK="$(mktemp -d "\${TMPDIR:-/tmp}/runbook-pgdump-verify.XXXXXX")"
PROGRESS_PID=""
trap '[ -z "$PROGRESS_PID" ] || kill "$PROGRESS_PID" 2>/dev/null; rm -rf "$WORK"' EXIT
${resolveBackupShell('postgres.dump')}
# One jq for the checks and the fields (each jq start costs more than the work). The dump is
# files[0]; backups older than the roles file have nothing after it.
jq -er --arg roles "$ROLES_FILE" 'if .format == "runbook-backup/1" and .kind == "postgres"
  and ((.files | length) == 1 or ((.files | length) == 2 and .files[1].name == $roles))
  and (.tables | type) == "object" and all(.tables[]; type == "number")
  then .files[] | [.name, .sha256, (.bytes | tostring)] | join(" ")
  else false end' "$WORK/manifest.json" > "$WORK/files" \\
  || { echo "postgres.dump: $LOCATION/$BACKUP/manifest.json lacks files or row counts" >&2; exit 1; }
TABLE_COUNT="$(jq '.tables | length' "$WORK/manifest.json")"
# The one read-back of the upload, whatever hash the remote has or lacks: the stored bytes are
# streamed (no local copy) through sha256sum; equal sha256 means equal content. The size comes from
# the listing (no second read): teeing the stream into wc -c measured slower than asking for it.
# openssl when there is one: coreutils' sha256sum does not use the CPU's SHA instructions (3x slower).
if command -v openssl > /dev/null; then SHA256_CMD=(openssl dgst -sha256 -r); else SHA256_CMD=(sha256sum); fi
while read -r NAME EXPECTED_SHA256 EXPECTED_BYTES <&3; do
  STORED_SHA256="$(rclone cat "$LOCATION/$BACKUP/$NAME" | "\${SHA256_CMD[@]}" | cut -d ' ' -f 1)"
  STORED_BYTES="$(rclone size --json "$LOCATION/$BACKUP/$NAME" | jq '.bytes')"
  if [ "$STORED_SHA256" != "$EXPECTED_SHA256" ] || [ "$STORED_BYTES" != "$EXPECTED_BYTES" ]; then
    echo "postgres.dump: $LOCATION/$BACKUP/$NAME is $STORED_BYTES bytes, sha256 $STORED_SHA256; manifest says $EXPECTED_BYTES bytes, sha256 $EXPECTED_SHA256" >&2
    exit 1
  fi
  echo "verified $LOCATION/$BACKUP/$NAME: $STORED_BYTES bytes, sha256 $STORED_SHA256"
done 3< "$WORK/files"
echo "verified $LOCATION/$BACKUP: $TABLE_COUNT tables counted"`;

export const postgresDump: Action<PostgresDumpInput> = {
  name: 'postgres.dump',
  description:
    "Dumps one database from a single snapshot (pg_dump --snapshot), compresses it (zstd by default), records exact row counts per table from the same snapshot, stores the cluster's roles without their passwords (pg_dumpall --roles-only --no-role-passwords, roles.sql), uploads to DEST/YYYY-MM-DDTHHMMSSZ/ and writes manifest.json last.",
  verifies:
    "The stored data file and roles file, read back from the destination, have the manifest's sha256 and size, and the manifest holds a row count for every table.",
  requires: (input) => [
    ...targetRequires(input.target, ['psql', 'pg_dump', 'pg_dumpall']),
    input.compress === 'gzip' ? 'gzip' : 'zstd',
    'sha256sum',
    'rclone',
    'jq',
  ],
  destructive: () => false,
  expand: (input) => ({ run: expandRun(input), verify: { run: expandVerify(input), timeout: '2h' } }),
};
