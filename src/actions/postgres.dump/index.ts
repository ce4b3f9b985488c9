// postgres.dump: one consistent snapshot of a database, compressed, checksummed and uploaded; the
// manifest goes last so a folder without one is visibly incomplete.
import { callShell, type Action } from '../action.js';
import type { PostgresDumpInput } from '../../runbook/schema.generated.js';
import { signingRequires, signingValues } from '../signing.js';
import { passwordLines, targetRequires, targetValues } from '../postgres-target.js';

/** The cluster's roles file in a backup folder; the manifest lists it after the dump (postgres.restore reads it). */
export const ROLES_FILE = 'roles.sql';

/** Compressor level when `level` is not given: zstd's fast default, gzip's own default. */
const defaultLevel = { zstd: 3, gzip: 6 } as const;

export const postgresDump: Action<PostgresDumpInput> = {
  name: 'postgres.dump',
  description:
    "Waits for the server to accept queries, refuses up front when a user that is no superuser cannot read every table and sequence, then dumps one database from a single snapshot (pg_dump --snapshot), compresses it (zstd by default), records exact row counts per table and the database's own properties (owner, ACL, settings, comment, extension owners) from the same snapshot, stores the cluster's roles without their passwords (pg_dumpall --roles-only --no-role-passwords, roles.sql), uploads to DEST/YYYY-MM-DDTHHMMSSZ/ and writes manifest.json last.",
  verifies:
    "The stored data file and roles file, read back from the destination, have the manifest's sha256 and size, and the manifest holds a row count for every table; a manifest without tables fails when the source database has tables.",
  requires: (input) => [
    ...targetRequires(input.target, ['psql', 'pg_dump', 'pg_dumpall']),
    input.compress === 'gzip' ? 'gzip' : 'zstd',
    'sha256sum',
    'rclone',
    'jq',
    ...signingRequires(input),
  ],
  destructive: () => false,
  expand: (input) => {
    const compress = input.compress ?? 'zstd';
    const run = callShell(
      'rb_postgres_dump_run',
      {
        ...targetValues(input.target),
        DATABASE: input.database,
        DEST: input.to,
        FORMAT: input.format ?? 'plain',
        COMPRESS: compress,
        LEVEL: input.level ?? defaultLevel[compress],
        ROLES_FILE,
        STAGING: input.staging ?? '',
        ...signingValues(input),
      },
      passwordLines(input.target),
    );
    const verify = callShell(
      'rb_postgres_dump_verify',
      { ...targetValues(input.target), DATABASE: input.database, LOCATION: input.to, ROLES_FILE, ...signingValues(input) },
      passwordLines(input.target),
    );
    return { run, verify: { run: verify, timeout: '2h' } };
  },
};
