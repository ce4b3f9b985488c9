// postgres.restore: a complete backup, checksum-checked before the database is touched, restored
// into a scratch database, counted there, and only then renamed into place.
import { callShell, trustRequires, trustValues, type Action } from '../action.js';
import type { PostgresRestoreInput } from '../../runbook/schema.generated.js';
import { passwordLines, targetRequires, targetValues } from '../postgres-target.js';
import { ROLES_FILE } from '../postgres.dump/index.js';

export const postgresRestore: Action<PostgresRestoreInput> = {
  name: 'postgres.restore',
  description:
    "Waits for the server to accept queries, fetches a trusted complete backup (the newest for latest, or a named one; signed by a key of signers unless allow_unsigned), only the files its manifest lists, checks its sha256 before touching the database, refuses a non-empty database unless replace is true, creates the roles of the backup that the server lacks with their attributes, memberships and settings (roles: true), restores into a scratch database, gives it the source database's owner, ACL, settings, comment and extension owners, and renames it into place once its tables, row counts and those properties match. Statements about databases and roles run on a maintenance database that is not the one restored (postgres, or template1 when restoring postgres).",
  verifies:
    "The database has exactly the tables of the backup's manifest, each with the manifest's exact count(*), and the owner, ACL, settings, comment and extension owners the manifest recorded (backups without them: row counts only).",
  requires: (input) => [
    ...targetRequires(input.target, ['psql', 'pg_restore']),
    'zstd',
    'gzip',
    'sha256sum',
    'rclone',
    'jq',
    ...trustRequires(input),
  ],
  destructive: (input) => input.replace === true,
  expand: (input) => {
    const inputs = {
      ...targetValues(input.target),
      DATABASE: input.database,
      LOCATION: input.from,
      BACKUP: input.backup ?? 'latest',
      ...trustValues(input),
    };
    const password = passwordLines(input.target);
    const run = callShell(
      'rb_postgres_restore_run',
      {
        ...inputs,
        REPLACE: input.replace ?? false,
        JOBS: input.jobs ?? 1,
        ROLES: input.roles ?? true,
        ROLES_FILE,
        PRIVILEGED_ROLES: JSON.stringify(input.privileged_roles ?? []),
      },
      password,
    );
    return { run, verify: { run: callShell('rb_postgres_restore_verify', inputs, password), timeout: '1h' } };
  },
};
