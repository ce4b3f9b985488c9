// postgres.restore: a complete backup, checksum-checked before the database is touched, restored
// into a scratch database, counted there, and only then renamed into place.
import type { Action } from './action.js';
import type { PostgresRestoreInput } from '../runbook/schema.generated.js';
import { shellAssignments } from '../shell/quote.js';
import {
  countRowsSql,
  countTablesSql,
  describeTarget,
  isContainerTarget,
  pgCommand,
  psqlCommand,
  targetAssignments,
  targetRequires,
} from './postgres-target.js';
import { compareCountsAndTablesShell, fetchBackupShell, resolveBackupShell } from './postgres-backup-shell.js';
import { applyRolesJq, ROLES_FILE } from './postgres-roles.js';

const restoreCommand = (input: PostgresRestoreInput): string => {
  const psql = psqlCommand(input.target);
  const plain = `  "$DECOMPRESS" -dc "$WORK/$NAME" | ${psql} -q --single-transaction -d "$SCRATCH_DB" > /dev/null`;
  // pg_restore -j needs a seekable file on the machine running it, which a container does not see.
  const custom =
    isContainerTarget(input.target) || !input.jobs || input.jobs < 2
      ? `  "$DECOMPRESS" -dc "$WORK/$NAME" | ${pgCommand(input.target, 'pg_restore')} -w --exit-on-error -d "$SCRATCH_DB"`
      : `  "$DECOMPRESS" -dc "$WORK/$NAME" > "$WORK/dump.custom" \\
    && ${pgCommand(input.target, 'pg_restore')} -w --exit-on-error -j "$JOBS" -d "$SCRATCH_DB" "$WORK/dump.custom"`;
  // Its errors are kept to name a missing role; set -e does not apply inside an if condition, so
  // each variant is one command or an && chain.
  return `if ! {
if [ "$DUMP_FORMAT" = custom ]; then
${custom}
else
${plain}
fi
} 2> "$WORK/restore.err"; then
  cat "$WORK/restore.err" >&2
  MISSING_ROLE="$(sed -n 's/.*role "\\(.*\\)" does not exist.*/\\1/p' "$WORK/restore.err" | head -n 1)"
  if [ -n "$MISSING_ROLE" ]; then
    echo "postgres.restore: the backup needs role $MISSING_ROLE, which ${describeTarget(input.target)} lacks; restore with roles: true from a backup that has ${ROLES_FILE}, or create the role first. No database was left behind." >&2
  fi
  exit 1
fi
cat "$WORK/restore.err" >&2`;
};

const expandRun = (input: PostgresRestoreInput): string => {
  const psql = psqlCommand(input.target);
  const where = describeTarget(input.target);
  return `# postgres.restore: fetch a complete backup, check its sha256 (and its roles file's) before touching the server, create the missing roles, restore into a scratch database, compare row counts, then rename it into place.
${targetAssignments(input.target)}
${shellAssignments({ DATABASE: input.database, LOCATION: input.from, BACKUP: input.backup ?? 'latest', REPLACE: input.replace ?? false, JOBS: input.jobs, ROLES: input.roles ?? true, ROLES_FILE })}
WORK="$(mktemp -d "\${TMPDIR:-/tmp}/runbook-pgrestore.XXXXXX")"
# Names stay under PostgreSQL's 63-byte limit, so they can never be truncated into DATABASE itself.
# They are fixed, not per process: a restore killed by SIGKILL (its trap never runs) leaves them
# behind, and the next attempt removes them instead of leaving a full copy of the data.
SCRATCH_DB="\${DATABASE:0:40}__restore"
OLD_DB="\${DATABASE:0:40}__replaced"
cleanup() {
  rm -rf "$WORK"
  # A failed restore leaves no half-restored database behind.
  [ "$PLACED" != true ] || return 0
  ${psql} -q -d postgres -v db="$SCRATCH_DB" > /dev/null 2>&1 <<'SQL' || true
DROP DATABASE IF EXISTS :"db" WITH (FORCE);
SQL
}
trap cleanup EXIT
PLACED=false

${fetchBackupShell('postgres.restore')}
# Every field the run needs from the manifest in one jq start (each costs about 15 ms), one a line.
jq -r --arg roles "$ROLES_FILE" '(.files[0] | .name, .sha256, .bytes), (.dump.format // "plain"), .created,
  ([.files[1:][] | select(.name == $roles) | "\\(.sha256) \\(.bytes)"][0] // ""), (.tables | length)
  | tostring | gsub("[\\n\\r]"; " ")' "$WORK/manifest.json" > "$WORK/fields"
{ read -r NAME; read -r EXPECTED_SHA256; read -r EXPECTED_BYTES; read -r DUMP_FORMAT; read -r CREATED; read -r ROLES_FIELDS; read -r TABLES; } < "$WORK/fields"
case "$NAME" in
  *.zst) DECOMPRESS=zstd ;;
  *.gz) DECOMPRESS=gzip ;;
  *) echo "postgres.restore: unknown data file $NAME in $LOCATION/$BACKUP/manifest.json" >&2; exit 1 ;;
esac
case "$NAME" in */* | .*) echo "postgres.restore: unsafe file name $NAME in the manifest" >&2; exit 1 ;; esac

# Downloaded with the manifest; nothing touches the database until the bytes are proven.
if [ ! -f "$WORK/backup/$NAME" ]; then
  echo "postgres.restore: $LOCATION/$BACKUP has no $NAME, which its manifest lists. The database was not touched." >&2
  exit 1
fi
mv "$WORK/backup/$NAME" "$WORK/$NAME"
GOT_SHA256="$(sha256sum "$WORK/$NAME")"
GOT_SHA256="\${GOT_SHA256%% *}"
GOT_BYTES="$(stat -c %s "$WORK/$NAME")"
if [ "$GOT_SHA256" != "$EXPECTED_SHA256" ] || [ "$GOT_BYTES" != "$EXPECTED_BYTES" ]; then
  echo "postgres.restore: $LOCATION/$BACKUP/$NAME is $GOT_BYTES bytes, sha256 $GOT_SHA256; manifest says $EXPECTED_BYTES bytes, sha256 $EXPECTED_SHA256. The database was not touched." >&2
  exit 1
fi
# The cluster's roles (backups made before roles were stored have none): proven like the dump.
# Only a roles file the manifest lists and whose bytes match is ever moved out of $WORK/backup.
if [ "$ROLES" = true ] && [ -z "$ROLES_FIELDS" ]; then
  echo "postgres.restore: $LOCATION/$BACKUP has no $ROLES_FILE (an older backup); roles are not created"
elif [ "$ROLES" = true ]; then
  read -r EXPECTED_ROLES_SHA256 EXPECTED_ROLES_BYTES <<< "$ROLES_FIELDS"
  if [ ! -f "$WORK/backup/$ROLES_FILE" ]; then
    echo "postgres.restore: $LOCATION/$BACKUP has no $ROLES_FILE, which its manifest lists. The database was not touched." >&2
    exit 1
  fi
  GOT_SHA256="$(sha256sum "$WORK/backup/$ROLES_FILE")"
  GOT_SHA256="\${GOT_SHA256%% *}"
  GOT_BYTES="$(stat -c %s "$WORK/backup/$ROLES_FILE")"
  if [ "$GOT_SHA256" != "$EXPECTED_ROLES_SHA256" ] || [ "$GOT_BYTES" != "$EXPECTED_ROLES_BYTES" ]; then
    echo "postgres.restore: $LOCATION/$BACKUP/$ROLES_FILE is $GOT_BYTES bytes, sha256 $GOT_SHA256; manifest says $EXPECTED_ROLES_BYTES bytes, sha256 $EXPECTED_ROLES_SHA256. The database was not touched." >&2
    exit 1
  fi
  mv "$WORK/backup/$ROLES_FILE" "$WORK/$ROLES_FILE"
fi

EXISTS="$(${psql} -At -d postgres -v db="$DATABASE" <<'SQL'
SELECT count(*) FROM pg_database WHERE datname = :'db';
SQL
)"
if [ "$EXISTS" = 1 ]; then
  USER_TABLES="$(${psql} -At -d "$DATABASE" <<'SQL'
${countTablesSql}
SQL
)"
  if [ "$USER_TABLES" != 0 ] && [ "$REPLACE" != true ]; then
    echo "postgres.restore: database $DATABASE at ${where} is not empty ($USER_TABLES tables); set replace: true to overwrite it. Nothing was changed." >&2
    exit 1
  fi
fi

if [ -s "$WORK/$ROLES_FILE" ]; then
  # Only CREATE ROLE (with its attributes) for roles the server lacks and the memberships of those:
  # roles that exist keep what they have. One transaction: all the missing roles or none.
  cat > "$WORK/roles.jq" <<'JQ'
${applyRolesJq}
JQ
  jq -nRr -f "$WORK/roles.jq" < "$WORK/$ROLES_FILE" > "$WORK/roles-apply.sql"
  if ! CREATED_ROLES="$(${psql} -q -At -d postgres < "$WORK/roles-apply.sql")"; then
    echo "postgres.restore: cannot create the roles of $LOCATION/$BACKUP/$ROLES_FILE at ${where} (this needs CREATEROLE, and superuser for SUPERUSER, REPLICATION or BYPASSRLS roles); no role was created and the database was not touched. Create them by hand and restore with roles: false." >&2
    exit 1
  fi
  echo "postgres.restore: created roles missing at ${where}: \${CREATED_ROLES:-none}"
fi

echo "postgres.restore: restoring $LOCATION/$BACKUP ($CREATED) into $SCRATCH_DB"
# Leftovers of an attempt that was killed: an unfinished scratch copy, or a replaced database
# whose drop never ran (the renames had already committed, so DATABASE holds the restored data).
${psql} -q -d postgres -v db="$SCRATCH_DB" -v old="$OLD_DB" <<'SQL'
DROP DATABASE IF EXISTS :"db" WITH (FORCE);
DROP DATABASE IF EXISTS :"old" WITH (FORCE);
CREATE DATABASE :"db" TEMPLATE template0;
SQL
${restoreCommand(input)}

COUNTS="$(${psql} -At -d "$SCRATCH_DB" <<'SQL'
${countRowsSql}
SQL
)"
${compareCountsAndTablesShell('postgres.restore', '$SCRATCH_DB')}

# Both renames run in one transaction: if either fails (a client reconnected to DATABASE in
# between), nothing is renamed, DATABASE keeps its old data under its own name, and the trap drops
# the scratch database; stop the clients and run the step again.
${psql} -q -d postgres -v db="$DATABASE" -v scratch="$SCRATCH_DB" -v old="$OLD_DB" -v exists="$EXISTS" > /dev/null <<'SQL'
SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :'db' AND pid <> pg_backend_pid();
BEGIN;
\\if :exists
ALTER DATABASE :"db" RENAME TO :"old";
\\endif
ALTER DATABASE :"scratch" RENAME TO :"db";
COMMIT;
SQL
# The scratch database now is DATABASE: nothing left for the trap to drop.
PLACED=true
if [ "$EXISTS" = 1 ]; then
  ${psql} -q -d postgres -v old="$OLD_DB" <<'SQL' || echo "postgres.restore: warning: could not drop the replaced database $OLD_DB; drop it by hand" >&2
DROP DATABASE :"old" WITH (FORCE);
SQL
fi

echo "postgres.restore: $DATABASE restored from $LOCATION/$BACKUP ($CREATED), $TABLES tables, row counts equal"
if [ -n "\${RUNBOOK_OUTPUT:-}" ]; then
  printf 'backup=%s\\ncreated=%s\\npath=%s\\n' "$BACKUP" "$CREATED" "$LOCATION/$BACKUP" >> "$RUNBOOK_OUTPUT"
fi`;
};

const expandVerify = (
  input: PostgresRestoreInput,
): string => `# postgres.restore verify: exact count(*) of every table in the manifest equals the manifest's number.
${targetAssignments(input.target)}
${shellAssignments({ DATABASE: input.database, LOCATION: input.from, BACKUP: input.backup ?? 'latest' })}
# The backup this step restored (from its outputs), else the one the inputs name.
RESTORED="$(sed -n 's/^backup=//p' "\${RUNBOOK_OUTPUT:-/dev/null}" | tail -n 1)"
BACKUP="\${RESTORED:-$BACKUP}"
WORK="$(mktemp -d "\${TMPDIR:-/tmp}/runbook-pgrestore-verify.XXXXXX")"
COUNT_PID=
trap '[ -z "$COUNT_PID" ] || kill "$COUNT_PID" 2> /dev/null; rm -rf "$WORK"' EXIT
# The database is counted while the manifest downloads: two independent waits, overlapped.
${psqlCommand(input.target)} -At -d "$DATABASE" > "$WORK/counts" 2> "$WORK/counts.err" <<'SQL' &
${countRowsSql}
SQL
COUNT_PID=$!
${resolveBackupShell('postgres.restore')}
if ! wait "$COUNT_PID"; then
  COUNT_PID=
  cat "$WORK/counts.err" >&2
  echo "postgres.restore: cannot count the rows of $DATABASE at ${describeTarget(input.target)}" >&2
  exit 1
fi
COUNT_PID=
COUNTS="$(cat "$WORK/counts")"
${compareCountsAndTablesShell('postgres.restore', '$DATABASE')}
echo "verified $DATABASE: $TABLES tables match the row counts of backup $BACKUP"`;

export const postgresRestore: Action<PostgresRestoreInput> = {
  name: 'postgres.restore',
  description:
    'Fetches a complete backup (latest, or a named one), checks its sha256 before touching the database, refuses a non-empty database unless replace is true, creates the roles of the backup that the server lacks (roles: true), restores into a scratch database and renames it into place once its row counts match.',
  verifies: "Exact count(*) of every table in the backup's manifest equals the manifest's number.",
  requires: (input) => [...targetRequires(input.target, ['psql', 'pg_restore']), 'zstd', 'gzip', 'sha256sum', 'rclone', 'jq'],
  destructive: (input) => input.replace === true,
  expand: (input) => ({ run: expandRun(input), verify: { run: expandVerify(input), timeout: '1h' } }),
};
