import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExpandContext } from '../../src/actions/action.js';
import { postgresDump } from '../../src/actions/postgres.dump/index.js';
import { postgresRestore } from '../../src/actions/postgres.restore/index.js';
import type { PostgresRestoreInput } from '../../src/runbook/schema.generated.js';
import { startPostgres, type PgCluster } from '../../tools/stack/postgres.js';
import { systemPath } from '../../tools/stack/run.js';
import { startS3, type S3Server } from '../../tools/stack/s3.js';
import { expectOk, requireBinaries, runShell, runStep } from '../backup/shell.js';
import { seedMixed, tableContents, writeDockerExec, databaseNames } from './postgres-fixture.js';

const context: ExpandContext = { runbook: 'test', stepId: 'restore', secrets: [] };

describe('postgres.restore', () => {
  let root: string;
  let source: PgCluster;
  let target: PgCluster;
  let s3: S3Server;
  let sourceContents: Record<string, string>;
  let backupId: string;
  const from = () => s3.remotePath('postgres/app');
  const env = () => ({ ...s3.rcloneEnv(), TMPDIR: join(root, 'staging') });
  const restore = (input: Partial<PostgresRestoreInput> = {}) =>
    postgresRestore.expand(
      { allow_unsigned: true, target: { host: target.host, port: target.port }, database: 'app', from: from(), ...input },
      context,
    );
  const databases = () => databaseNames(target);

  beforeAll(async () => {
    requireBinaries('psql', 'pg_dump', 'zstd', 'rclone', 'jq', 'sha256sum');
    root = await mkdtemp(join(tmpdir(), 'pg-restore-'));
    await mkdir(join(root, 'staging'));
    [source, target, s3] = await Promise.all([
      startPostgres({ root, name: 'source' }),
      startPostgres({ root, name: 'target' }),
      startS3({ root, bucket: 'backups' }),
    ]);
    await seedMixed(source, 'app');
    sourceContents = await tableContents(source, 'app');
    const dump = await runStep(
      postgresDump.expand({ target: { host: source.host, port: source.port }, database: 'app', to: from() }, context),
      root,
      env(),
    );
    expectOk(dump.run, 'dump');
    backupId = dump.outputs.backup!;
    // A newer folder without manifest.json is an incomplete backup: `latest` must never pick it.
    await mkdir(join(root, 'incomplete'));
    await writeFile(join(root, 'incomplete', 'dump.sql.zst'), 'not a dump');
    expectOk(
      await runShell(`rclone copyto ${join(root, 'incomplete', 'dump.sql.zst')} ${from()}/2099-01-01T000000Z/dump.sql.zst`, env()),
      'upload incomplete',
    );
  });
  afterAll(async () => {
    await Promise.all([source?.destroy(), target?.destroy(), s3?.stop()]);
    await rm(root, { recursive: true, force: true });
  });

  it('restores the latest complete backup into a fresh cluster with equal content', async () => {
    const { run, verify, outputs } = await runStep(restore(), root, env());
    expectOk(run, 'restore');
    expectOk(verify, 'verify');
    expect(outputs.backup).toBe(backupId);
    expect(outputs.created).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
    expect(await tableContents(target, 'app')).toEqual(sourceContents);
    expect(await databases()).toBe('app,postgres');
    // Sequences continue past the restored rows.
    expect(
      (await target.psql(`INSERT INTO auth.users (email, created_at) VALUES ('new@example.com', now()) RETURNING id`, 'app')).split(
        '\n',
      )[0],
    ).toBe('2001');
    await target.psql(`DELETE FROM auth.users WHERE email = 'new@example.com'`, 'app');
    expect(verify!.stdout).toContain(`verified app: 4 tables match the row counts of backup ${backupId}`);
  });

  it('refuses a non-empty database without replace, and leaves it unchanged', async () => {
    await target.psql(`UPDATE public.orders SET note = 'changed' WHERE id = 1`, 'app');
    const before = await tableContents(target, 'app');
    const { run } = await runStep(restore(), root, env());
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      `postgres.restore: database app at 127.0.0.1:${target.port} is not empty (4 tables); set replace: true to overwrite it (the step's input, e.g. from a runbook var: runbook exec FILE --var replace=true, then confirm the destructive step or pass --yes). Nothing was changed.`,
    );
    expect(await tableContents(target, 'app')).toEqual(before);
    expect(await databases()).toBe('app,postgres');
  });

  it('replaces a non-empty database when replace is true', async () => {
    expect(postgresRestore.destructive({ target: { host: 'h', port: 1 }, database: 'app', from: 'x', replace: true })).toBe(true);
    expect(postgresRestore.destructive({ target: { host: 'h', port: 1 }, database: 'app', from: 'x' })).toBe(false);
    const { run, verify } = await runStep(restore({ replace: true, backup: backupId }), root, env());
    expectOk(run, 'restore with replace');
    expectOk(verify, 'verify');
    expect(await tableContents(target, 'app')).toEqual(sourceContents);
    expect(await databases()).toBe('app,postgres');
  });

  it('refuses altered bytes in the object store before touching the database', async () => {
    await target.psql(`UPDATE public.orders SET note = 'changed again' WHERE id = 2`, 'app');
    const before = await tableContents(target, 'app');
    const file = s3.objectFile(`postgres/app/${backupId}/dump.sql.zst`);
    const original = await readFile(file);
    const altered = Buffer.from(original);
    altered[100] = altered[100]! ^ 0x01;
    await writeFile(file, altered);
    try {
      const { run } = await runStep(restore({ replace: true }), root, env());
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(
        new RegExp(
          `${backupId}/dump\\.sql\\.zst is ${original.length} bytes, sha256 [0-9a-f]{64}; manifest says ${original.length} bytes, sha256 [0-9a-f]{64}\\. The database was not touched\\.`,
        ),
      );
      expect(await tableContents(target, 'app')).toEqual(before);
      expect(await databases()).toBe('app,postgres');
    } finally {
      await writeFile(file, original);
    }
  });

  it('verify names every table whose row count differs from the manifest', async () => {
    await target.psql(`DELETE FROM public.orders WHERE id <= 10; DROP TABLE public.empty_table;`, 'app');
    const verify = await runShell(restore().verify.run, env());
    expect(verify.code).toBe(1);
    expect(verify.stderr).toContain('public.empty_table: expected 0, got no such table\npublic.orders: expected 4000, got 3990\n');
  });

  it('verify names every table the database has that the manifest lacks', async () => {
    await target.psql(
      `CREATE TABLE public.orders_archive (id int); INSERT INTO public.orders_archive VALUES (1), (2); CREATE TABLE auth.extra (id int);`,
      'app',
    );
    try {
      const verify = await runShell(restore().verify.run, env());
      expect(verify.code).toBe(1);
      expect(verify.stderr).toContain('auth.extra: 0 rows, not in the manifest\npublic.orders_archive: 2 rows, not in the manifest\n');
      expect(verify.stderr).toContain(`postgres.restore: row counts in app differ from the manifest of ${backupId}`);
    } finally {
      await target.psql(`DROP TABLE public.orders_archive, auth.extra`, 'app');
    }
  });

  it('refuses a backup whose manifest lists no tables when its dump has tables, and leaves the database as it was', async () => {
    const manifestFile = s3.objectFile(`postgres/app/${backupId}/manifest.json`);
    const original = await readFile(manifestFile, 'utf8');
    await writeFile(manifestFile, JSON.stringify({ ...JSON.parse(original), tables: {} }));
    const before = await tableContents(target, 'app');
    try {
      const { run } = await runStep(restore({ replace: true, backup: backupId }), root, env());
      expect(run.code).toBe(1);
      expect(run.stderr).toContain('auth.users: 2000 rows, not in the manifest\n');
      expect(run.stderr).toContain(`postgres.restore: row counts in app__restore differ from the manifest of ${backupId}`);
      expect(await tableContents(target, 'app')).toEqual(before);
      expect(await databases()).toBe('app,postgres');
    } finally {
      await writeFile(manifestFile, original);
    }
  });

  it('fails with a clear message naming the path when the backup does not exist', async () => {
    const named = await runShell(restore({ backup: '2001-01-01T000000Z' }).run, env());
    expect(named.code).toBe(1);
    expect(named.stderr).toContain(`no backup 2001-01-01T000000Z under ${from()}`);
    const nothing = await runShell(restore({ from: s3.remotePath('postgres/none') }).run, env());
    expect(nothing.code).toBe(1);
    expect(nothing.stderr).toContain(`no trusted complete backup under ${s3.remotePath('postgres/none')} (no backup folders at all)`);
  });

  describe('with objects owned by roles the target lacks', () => {
    const to = () => s3.remotePath('postgres/owned');
    let ownedId: string;
    const roleNames = async () =>
      (await target.psql(`SELECT string_agg(rolname, ',' ORDER BY rolname COLLATE "C") FROM pg_roles WHERE rolname !~ '^pg_'`)).trim();

    beforeAll(async () => {
      // Like a Supabase database: an owner role, a reader role with grants, a login role that is a
      // member of the reader, and a role the target already has (with other attributes).
      await source.createDatabase('owned');
      await source.psql(
        `CREATE ROLE app_owner NOLOGIN; CREATE ROLE app_reader NOLOGIN; CREATE ROLE "app login" LOGIN NOINHERIT CONNECTION LIMIT 5 PASSWORD 'not-in-backups';
         GRANT app_reader TO "app login"; GRANT app_owner TO app_reader;
         CREATE SCHEMA data AUTHORIZATION app_owner; CREATE TABLE data.t (id int); INSERT INTO data.t VALUES (1), (2); ALTER TABLE data.t OWNER TO app_owner;
         GRANT USAGE ON SCHEMA data TO app_reader; GRANT SELECT ON data.t TO app_reader;`,
        'owned',
      );
      await target.psql(`CREATE ROLE app_reader LOGIN`);
      const dump = await runStep(
        postgresDump.expand({ target: { host: source.host, port: source.port }, database: 'owned', to: to() }, context),
        root,
        env(),
      );
      expectOk(dump.run, 'dump');
      ownedId = dump.outputs.backup!;
    });

    it('fails with roles: false naming the missing role, and leaves no database and no role', async () => {
      const { run } = await runStep(restore({ database: 'owned', from: to(), roles: false }), root, env());
      expect(run.code).toBe(1);
      expect(run.stderr).toContain('role "app_owner" does not exist');
      expect(run.stderr).toContain(
        `postgres.restore: the backup needs role app_owner, which 127.0.0.1:${target.port} lacks; restore with roles: true`,
      );
      expect(await databases()).toBe('app,postgres');
      expect(await roleNames()).toBe('app_reader,postgres');
    });

    it('refuses an altered roles.sql before touching the server', async () => {
      const file = s3.objectFile(`postgres/owned/${ownedId}/roles.sql`);
      const original = await readFile(file, 'utf8');
      expect(original).toContain('CREATE ROLE app_owner;');
      await writeFile(file, original.replace('CREATE ROLE app_owner;', 'CREATE ROLE app_owner SUPERUSER;'));
      try {
        const { run } = await runStep(restore({ database: 'owned', from: to() }), root, env());
        expect(run.code).toBe(1);
        // Its size already disagrees in the listing: the backup is not trusted, nothing is downloaded.
        expect(run.stderr).toMatch(
          new RegExp(`"roles\\.sql" is \\d+ bytes in the store, the manifest says ${Buffer.byteLength(original)}`),
        );
        expect(await databases()).toBe('app,postgres');
        expect(await roleNames()).toBe('app_reader,postgres');
      } finally {
        await writeFile(file, original);
      }
    });

    it('creates the missing roles (roles: true by default) and restores with the same owners and grants', async () => {
      const { run, verify } = await runStep(restore({ database: 'owned', from: to() }), root, env());
      expectOk(run, 'restore');
      expectOk(verify, 'verify');
      expect(run.stdout).toContain(`postgres.restore: created roles missing at 127.0.0.1:${target.port}: app login, app_owner`);
      expect(await target.psql(`SELECT tableowner FROM pg_tables WHERE tablename = 't'`, 'owned')).toBe('app_owner\n');
      expect(await target.psql(`SELECT nspowner::regrole FROM pg_namespace WHERE nspname = 'data'`, 'owned')).toBe('app_owner\n');
      expect(
        await target.psql(
          `SELECT has_table_privilege('app_reader', 'data.t', 'SELECT'), has_table_privilege('app_reader', 'data.t', 'INSERT')`,
          'owned',
        ),
      ).toBe('t|f\n');
      // The created role has the backup's attributes and memberships, and no password.
      expect(
        await target.psql(`SELECT rolcanlogin, rolinherit, rolconnlimit, rolpassword IS NULL FROM pg_authid WHERE rolname = 'app login'`),
      ).toBe('t|f|5|t\n');
      expect(await target.psql(`SELECT pg_has_role('app login', 'app_reader', 'MEMBER')`)).toBe('t\n');
      // The role the target had keeps its own attributes and gains no membership.
      expect(
        await target.psql(
          `SELECT rolcanlogin, pg_has_role('app_reader', 'app_owner', 'MEMBER') FROM pg_roles WHERE rolname = 'app_reader'`,
        ),
      ).toBe('t|f\n');
      expect(await tableContents(target, 'owned')).toEqual(await tableContents(source, 'owned'));

      // Again, with every role present: nothing is created.
      const again = await runStep(restore({ database: 'owned', from: to(), replace: true }), root, env());
      expectOk(again.run, 'restore again');
      expect(again.run.stdout).toContain(`created roles missing at 127.0.0.1:${target.port}: none`);
      await target.psql(`DROP DATABASE owned`);
    });

    it('restores an older backup without roles.sql when the roles exist', async () => {
      // The manifest and folder of a backup made before roles were stored: the dump only.
      const manifest = JSON.parse(await readFile(s3.objectFile(`postgres/owned/${ownedId}/manifest.json`), 'utf8'));
      expect(manifest.files.map((file: { name: string }) => file.name)).toEqual(['dump.sql.zst', 'roles.sql']);
      manifest.files = manifest.files.slice(0, 1);
      // Nor had it the database's own properties.
      delete manifest.database;
      const old = s3.remotePath('postgres/old');
      await writeFile(join(root, 'old-manifest.json'), JSON.stringify(manifest));
      expectOk(
        await runShell(
          `rclone copyto ${to()}/${ownedId}/dump.sql.zst ${old}/${ownedId}/dump.sql.zst && rclone copyto ${join(root, 'old-manifest.json')} ${old}/${ownedId}/manifest.json`,
          env(),
        ),
        'old-style backup',
      );
      const { run, verify } = await runStep(restore({ database: 'owned_old', from: old }), root, env());
      expectOk(run, 'restore');
      expectOk(verify, 'verify');
      expect(run.stdout).toContain(`postgres.restore: ${old}/${ownedId} has no roles.sql (an older backup); roles are not created`);
      expect(await target.psql(`SELECT tableowner FROM pg_tables WHERE tablename = 't'`, 'owned_old')).toBe('app_owner\n');
      await target.psql(`DROP DATABASE owned_old`);
    });
  });

  it('restores a gzip custom-format backup from a local folder with parallel jobs', async () => {
    const to = join(root, 'local-backups');
    const dump = postgresDump.expand(
      { target: { host: source.host, port: source.port }, database: 'app', to, format: 'custom', compress: 'gzip' },
      context,
    );
    expectOk((await runStep(dump, root, env())).run, 'dump');
    const { run, verify } = await runStep(restore({ database: 'app_custom', from: to, jobs: 2 }), root, env());
    expectOk(run, 'restore');
    expectOk(verify, 'verify');
    expect(run.stdout).toMatch(/restored from .*local-backups\/\d{4}-/);
    expect(await tableContents(target, 'app_custom')).toEqual(sourceContents);
  });

  it('restores into a container target through docker exec, streaming a custom dump whatever jobs says', async () => {
    const containerTarget = { container: 'twenty-db', user: 'postgres', password_secret: 'CRM_DB_PASSWORD' };
    const step = (database: string, from: string) =>
      postgresRestore.expand({ allow_unsigned: true, target: containerTarget, database, from, jobs: 4 }, context);
    // The text is the inputs and the call: the target, and the password by reference only.
    expect(step('twenty', 'backup:b/crm').run).toBe(
      "PG_CONTAINER=twenty-db\nPG_USER=postgres\nDATABASE=twenty\nLOCATION=backup:b/crm\nBACKUP=latest\nSIGNERS=''\nALLOW_UNSIGNED=true\nREPLACE=false\nJOBS=4\nROLES=true\nROLES_FILE=roles.sql\nPRIVILEGED_ROLES='[]'\nexport PGPASSWORD=\"${CRM_DB_PASSWORD}\"\nrb_postgres_restore_run",
    );
    expect(step('twenty', 'backup:b/crm').verify.run).toBe(
      'PG_CONTAINER=twenty-db\nPG_USER=postgres\nDATABASE=twenty\nLOCATION=backup:b/crm\nBACKUP=latest\nSIGNERS=\'\'\nALLOW_UNSIGNED=true\nexport PGPASSWORD="${CRM_DB_PASSWORD}"\nrb_postgres_restore_verify',
    );
    // Docker cannot run here: a docker that serves `exec` against the target server runs the words for real.
    const log = join(root, 'docker.log');
    const shim = await writeDockerExec(join(root, 'docker-bin'), target);
    const containerEnv = { ...env(), PATH: `${shim}:${systemPath()}`, DOCKER_LOG: log, CRM_DB_PASSWORD: 'not-in-argv' };

    const plain = await runStep(step('app_container', from()), root, containerEnv);
    expectOk(plain.run, 'restore of a plain dump');
    expectOk(plain.verify, 'verify');
    expect(await tableContents(target, 'app_container')).toEqual(sourceContents);
    const calls = async () => (await readFile(log, 'utf8')).trim().split('\n');
    expect(await calls()).toContain(
      'exec -i -e PGPASSWORD twenty-db psql -U postgres -X -v ON_ERROR_STOP=1 -w -q --single-transaction -d app_container__restore',
    );

    const custom = join(root, 'custom-for-container');
    const dump = postgresDump.expand(
      { target: { host: source.host, port: source.port }, database: 'app', to: custom, format: 'custom' },
      context,
    );
    expectOk((await runStep(dump, root, env())).run, 'custom dump');
    await writeFile(log, '');
    const restored = await runStep(step('app_container_custom', custom), root, containerEnv);
    expectOk(restored.run, 'restore of a custom dump');
    expectOk(restored.verify, 'verify');
    expect(await tableContents(target, 'app_container_custom')).toEqual(sourceContents);
    // pg_restore -j needs a file the container cannot see: a container restore streams instead.
    expect(await calls()).toContain(
      'exec -i -e PGPASSWORD twenty-db pg_restore -U postgres -w --exit-on-error -d app_container_custom__restore',
    );
    expect((await calls()).join('\n')).not.toMatch(/ -j |not-in-argv/);
    await target.psql(`DROP DATABASE app_container; DROP DATABASE app_container_custom`);
  });
});
