// What lives outside a database's contents and a restore must carry anyway: the database's owner,
// ACL, settings (its own and its roles' in it), comment and extension owners (manifest `database`),
// and the settings of the roles a restore creates. Shaped like Twenty's database: the application
// role owns the database and created its extensions.
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExpandContext } from '../../src/actions/action.js';
import { postgresDump } from '../../src/actions/postgres.dump/index.js';
import { postgresRestore } from '../../src/actions/postgres.restore/index.js';
import type { PostgresRestoreInput } from '../../src/runbook/schema.generated.js';
import { startPostgres, type PgCluster } from '../../tools/stack/postgres.js';
import { expectOk, requireBinaries, runShell, runStep } from '../backup/shell.js';
import { tableContents, databaseNames } from './postgres-fixture.js';

const context: ExpandContext = { runbook: 'test', stepId: 'restore', secrets: [] };

/** Everything compared, each as sorted text: equal databases give equal objects. */
const properties = async (cluster: PgCluster, database: string) => {
  const [owner, acl, settings, comment, extensions] = (
    await cluster.psql(
      `SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = current_database();
       SELECT coalesce(string_agg(v, ',' ORDER BY v), 'default') FROM (
         SELECT format('%s=%s%s', coalesce(nullif(a.grantee, 0)::regrole::text, 'PUBLIC'), a.privilege_type, CASE WHEN a.is_grantable THEN '*' ELSE '' END) AS v
         FROM pg_database d, aclexplode(d.datacl) a WHERE d.datname = current_database()) acl;
       SELECT string_agg(v, ',' ORDER BY v) FROM (
         SELECT coalesce(nullif(setrole, 0)::regrole::text, 'DATABASE') || ':' || array_to_string(setconfig, ';') AS v
         FROM pg_db_role_setting WHERE setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database())) settings;
       SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = current_database();
       SELECT string_agg(extname || ':' || extowner::regrole, ',' ORDER BY extname) FROM pg_extension;`,
      database,
    )
  ).split('\n');
  return { owner, acl, settings, comment, extensions };
};

describe('postgres.restore of the database properties and role settings', () => {
  let root: string;
  let source: PgCluster;
  let target: PgCluster;
  const to = () => join(root, 'backups');
  const env = () => ({ TMPDIR: join(root, 'staging') });
  const restore = (input: Partial<PostgresRestoreInput> = {}) =>
    postgresRestore.expand(
      { allow_unsigned: true, target: { host: target.host, port: target.port }, database: 'twenty', from: to(), ...input },
      context,
    );
  const databases = () => databaseNames(target);

  beforeAll(async () => {
    requireBinaries('psql', 'pg_dump', 'zstd', 'rclone', 'jq', 'sha256sum');
    root = await mkdtemp(join(tmpdir(), 'pg-database-'));
    await mkdir(join(root, 'staging'));
    [source, target] = await Promise.all([startPostgres({ root, name: 'source' }), startPostgres({ root, name: 'target' })]);
    await source.psql(
      `CREATE ROLE twenty LOGIN CREATEDB; CREATE ROLE twenty_web LOGIN NOINHERIT; CREATE ROLE "app reader" NOLOGIN; CREATE ROLE kept LOGIN;
       ALTER ROLE twenty_web SET search_path TO "$user", public, "Ext Schema"; ALTER ROLE twenty_web SET statement_timeout TO '5s';
       ALTER ROLE "app reader" SET "app.settings.role" TO 'it''s'; ALTER ROLE kept SET work_mem TO '7MB';
       CREATE DATABASE twenty OWNER twenty;`,
    );
    await source.psql(
      `REVOKE ALL ON DATABASE twenty FROM PUBLIC; GRANT CONNECT ON DATABASE twenty TO twenty_web; GRANT CREATE ON DATABASE twenty TO "app reader" WITH GRANT OPTION;
       ALTER DATABASE twenty SET search_path TO "$user", public, extensions; ALTER DATABASE twenty SET "app.settings.jwt_exp" TO '3600';
       ALTER ROLE twenty_web IN DATABASE twenty SET statement_timeout TO '8s'; COMMENT ON DATABASE twenty IS 'CRM data';`,
    );
    // The application role creates its extensions (trusted ones), so it owns them.
    await runShell(
      `psql -X -v ON_ERROR_STOP=1 -h 127.0.0.1 -p ${source.port} -U twenty -d twenty -c 'CREATE SCHEMA extensions; CREATE EXTENSION pgcrypto SCHEMA extensions; CREATE EXTENSION "uuid-ossp" SCHEMA extensions; CREATE SCHEMA crm; CREATE TABLE crm.people (id uuid DEFAULT extensions.uuid_generate_v4(), name text); INSERT INTO crm.people (name) SELECT md5(i::text) FROM generate_series(1, 50) i'`,
    ).then((result) => expectOk(result, 'seed as twenty'));
    await target.psql(`CREATE ROLE kept LOGIN; ALTER ROLE kept SET work_mem TO '2MB';`);
    const dump = await runStep(
      postgresDump.expand({ target: { host: source.host, port: source.port, user: 'twenty' }, database: 'twenty', to: to() }, context),
      root,
      env(),
    );
    expectOk(dump.run, 'dump');
    expectOk(dump.verify, 'dump verify');
  });
  afterAll(async () => {
    await Promise.all([source?.destroy(), target?.destroy()]);
    await rm(root, { recursive: true, force: true });
  });

  it('fails clearly when the restoring user cannot give the extensions back to their owner, and leaves nothing behind', async () => {
    // A restorer that may create databases and act as twenty, but is no superuser.
    await target.psql(`CREATE ROLE twenty LOGIN CREATEDB; CREATE ROLE twenty_web LOGIN NOINHERIT; CREATE ROLE "app reader" NOLOGIN;
      CREATE ROLE restorer LOGIN CREATEDB CREATEROLE IN ROLE twenty; GRANT SET ON PARAMETER "app.settings.jwt_exp" TO restorer;`);
    try {
      const { run } = await runStep(
        restore({ target: { host: target.host, port: target.port, user: 'restorer' }, roles: false }),
        root,
        env(),
      );
      expect(run.code).toBe(1);
      expect(run.stderr).toContain(
        "extension owners differ from the backup's (pgcrypto: restorer, backup twenty; uuid-ossp: restorer, backup twenty) and only a superuser can change an extension's owner: restore as a superuser",
      );
      expect(run.stderr).toContain('postgres.restore: cannot give twenty__restore the owner, ACL, settings, comment or extension owners');
      expect(await databases()).toBe('postgres');
    } finally {
      await target.psql(
        `REVOKE SET ON PARAMETER "app.settings.jwt_exp" FROM restorer; DROP ROLE restorer, twenty, twenty_web, "app reader";`,
      );
    }
  });

  it("restores the database's owner, ACL, settings, comment and extension owners, and the created roles' settings", async () => {
    const { run, verify } = await runStep(restore(), root, env());
    expectOk(run, 'restore');
    expectOk(verify, 'verify');
    expect(verify!.stdout).toContain('owner, ACL, settings, comment and extension owners match');
    expect(await properties(target, 'twenty')).toEqual(await properties(source, 'twenty'));
    expect((await properties(target, 'twenty')).extensions).toBe('pgcrypto:twenty,plpgsql:postgres,uuid-ossp:twenty');
    expect(await tableContents(target, 'twenty')).toEqual(await tableContents(source, 'twenty'));
    // Settings take effect for a new session, as in the source.
    expect(
      await runShell(
        `psql -X -At -h 127.0.0.1 -p ${target.port} -U twenty_web -d twenty -c 'SHOW search_path' -c 'SHOW statement_timeout' -c 'SHOW "app.settings.jwt_exp"'`,
      ),
    ).toMatchObject({ code: 0, stdout: '"$user", public, "Ext Schema"\n8s\n3600\n' });
    // The roles the restore created carry their settings; the one the target had keeps its own.
    const rolconfig = `SELECT rolname || ' ' || array_to_string(rolconfig, ';') FROM pg_roles WHERE rolname IN ('twenty_web', 'app reader', 'kept') ORDER BY 1`;
    expect(await target.psql(rolconfig)).toBe(
      `app reader app.settings.role=it's\nkept work_mem=2MB\ntwenty_web search_path="$user", public, "Ext Schema";statement_timeout=5s\n`,
    );
  });

  it('keeps them when replacing the database, and verify names each property that differs', async () => {
    const { run, verify } = await runStep(restore({ replace: true }), root, env());
    expectOk(run, 'restore with replace');
    expectOk(verify, 'verify');
    expect(await properties(target, 'twenty')).toEqual(await properties(source, 'twenty'));

    await target.psql(
      `ALTER DATABASE twenty OWNER TO postgres; ALTER DATABASE twenty RESET "app.settings.jwt_exp"; ALTER ROLE kept IN DATABASE twenty SET work_mem TO '1MB';
       GRANT CONNECT ON DATABASE twenty TO kept; COMMENT ON DATABASE twenty IS 'changed';`,
    );
    await target.psql(`UPDATE pg_extension SET extowner = 'postgres'::regrole WHERE extname = 'pgcrypto'`, 'twenty');
    const failed = await runShell(restore().verify.run, env());
    expect(failed.code).toBe(1);
    for (const line of [
      'owner: expected twenty, got postgres',
      'ACL: expected ["app reader CREATE WITH GRANT OPTION","twenty CONNECT","twenty CREATE","twenty TEMPORARY","twenty_web CONNECT"], got ',
      'setting database: app.settings.jwt_exp=3600: missing',
      'setting role kept: work_mem=1MB: not in the manifest',
      'comment: expected "CRM data", got "changed"',
      'extension pgcrypto: owner expected twenty, got postgres',
      'postgres.restore: database properties of twenty differ from the manifest of ',
    ])
      expect(failed.stderr).toContain(line);
  });
});
