// postgres.restore: a complete backup, checksum-checked before the database is touched, restored
// into a scratch database, counted there, and only then renamed into place.
import { callShell, type Action } from '../action.js';
import type { PostgresRestoreInput } from '../../runbook/schema.generated.js';
import { passwordLines, targetRequires, targetValues } from '../postgres-target.js';
import { ROLES_FILE } from '../postgres.dump/index.js';

export const postgresRestore: Action<PostgresRestoreInput> = {
  name: 'postgres.restore',
  description:
    'Fetches a complete backup (latest, or a named one), checks its sha256 before touching the database, refuses a non-empty database unless replace is true, creates the roles of the backup that the server lacks (roles: true), restores into a scratch database and renames it into place once its row counts match.',
  verifies: "Exact count(*) of every table in the backup's manifest equals the manifest's number.",
  requires: (input) => [...targetRequires(input.target, ['psql', 'pg_restore']), 'zstd', 'gzip', 'sha256sum', 'rclone', 'jq'],
  destructive: (input) => input.replace === true,
  expand: (input) => {
    const inputs = { ...targetValues(input.target), DATABASE: input.database, LOCATION: input.from, BACKUP: input.backup ?? 'latest' };
    const password = passwordLines(input.target);
    const run = callShell(
      'rb_postgres_restore_run',
      { ...inputs, REPLACE: input.replace ?? false, JOBS: input.jobs ?? 1, ROLES: input.roles ?? true, ROLES_FILE },
      password,
    );
    return { run, verify: { run: callShell('rb_postgres_restore_verify', inputs, password), timeout: '1h' } };
  },
};
