import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgresDump } from '../../src/actions/postgres.dump/index.js';
import type { ExpandContext } from '../../src/actions/action.js';
import { startPostgres, type PgCluster } from '../../tools/stack/postgres.js';
import { systemPath } from '../../tools/stack/run.js';
import { startS3, type S3Server } from '../../tools/stack/s3.js';
import { expectOk, requireBinaries, runShell, runStep } from '../backup/shell.js';
import { rowCounts, seedMixed, writeDockerExec } from './postgres-fixture.js';

const context: ExpandContext = { runbook: 'test', stepId: 'dump', secrets: [] };

/**
 * A second session holding an ACCESS EXCLUSIVE lock on public.orders, granted before this returns:
 * on a loaded machine pg_dump could otherwise take its own lock first and never wait.
 */
const lockOrders = async (pg: PgCluster) => {
  const locker = spawn('psql', ['-X', '-q', '-h', pg.host, '-p', String(pg.port), '-U', 'postgres', '-d', 'app'], {
    stdio: ['pipe', 'ignore', 'inherit'],
  });
  locker.stdin.write('BEGIN; LOCK TABLE public.orders IN ACCESS EXCLUSIVE MODE;\n');
  for (let attempt = 0; attempt < 400; attempt++) {
    const held = (
      await pg.psql(
        `SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation WHERE c.relname = 'orders' AND l.mode = 'AccessExclusiveLock' AND l.granted`,
        'app',
      )
    ).trim();
    if (held === '1') return locker;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error('the locking session never got its lock on public.orders');
};

describe('postgres.dump', () => {
  let root: string;
  let staging: string;
  let pg: PgCluster;
  let s3: S3Server;
  const env = () => ({ ...s3.rcloneEnv(), TMPDIR: staging });
  const expand = (to: string, extra: Partial<Parameters<typeof postgresDump.expand>[0]> = {}) =>
    postgresDump.expand({ target: { host: pg.host, port: pg.port }, database: 'app', to, ...extra }, context);
  const manifestsUnder = async (to: string) => {
    const listing = await runShell(`rclone lsf -R --files-only ${to} || true`, env());
    return listing.stdout.split('\n').filter((line) => line.endsWith('manifest.json'));
  };

  beforeAll(async () => {
    requireBinaries('psql', 'pg_dump', 'zstd', 'gzip', 'rclone', 'jq', 'sha256sum');
    root = await mkdtemp(join(tmpdir(), 'pg-dump-'));
    staging = join(root, 'staging');
    await mkdir(staging);
    pg = await startPostgres({ root, name: 'source' });
    s3 = await startS3({ root, bucket: 'backups' });
    await seedMixed(pg, 'app');
  });
  afterAll(async () => {
    await pg?.destroy();
    await s3?.stop();
    await rm(root, { recursive: true, force: true });
  });

  it('writes a complete backup whose manifest matches the database and the stored bytes', async () => {
    const to = s3.remotePath('postgres/app');
    const { run, verify, outputs } = await runStep(expand(to), root, env());
    expectOk(run, 'dump');
    expectOk(verify, 'verify');

    const id = outputs.backup!;
    expect(id).toMatch(/^\d{4}-\d{2}-\d{2}T\d{6}Z$/);
    expect(outputs.path).toBe(`${to}/${id}`);
    const manifest = JSON.parse(await readFile(s3.objectFile(`postgres/app/${id}/manifest.json`), 'utf8'));
    expect(manifest).toMatchObject({
      format: 'runbook-backup/1',
      kind: 'postgres',
      id,
      source: { database: 'app', host: '127.0.0.1', port: pg.port },
      dump: { format: 'plain', compress: 'zstd' },
      runbook: { name: 'test', commit: 'abc123', run_id: 'run-1', step: 'step' },
    });
    expect(manifest.created).toBe(`${id.slice(0, 13)}:${id.slice(13, 15)}:${id.slice(15, 17)}Z`);
    expect(manifest.server_version).toMatch(/^15\./);
    expect(manifest.tables).toEqual(await rowCounts(pg, 'app'));
    expect(manifest.tables['public.Order Items']).toBe(2000);

    const stored = await readFile(s3.objectFile(`postgres/app/${id}/dump.sql.zst`));
    const roles = await readFile(s3.objectFile(`postgres/app/${id}/roles.sql`));
    // The dump stays files[0]: restores and verifications of older backups read it there.
    expect(manifest.files).toEqual([
      { name: 'dump.sql.zst', bytes: stored.length, sha256: createHash('sha256').update(stored).digest('hex') },
      { name: 'roles.sql', bytes: roles.length, sha256: createHash('sha256').update(roles).digest('hex') },
    ]);
    expect(verify!.stdout).toContain(`verified ${to}/${id}/dump.sql.zst: ${stored.length} bytes`);
    expect(verify!.stdout).toContain(`verified ${to}/${id}/roles.sql: ${roles.length} bytes`);
    expect(verify!.stdout).toContain(`verified ${to}/${id}: 4 tables counted`);
    expect(await readdir(staging)).toEqual([]);
  });

  it('stores the cluster roles without passwords, read by a user that is no superuser', async () => {
    await pg.psql(
      `CREATE ROLE app_owner NOLOGIN; CREATE ROLE "app login" LOGIN NOINHERIT PASSWORD 'hunter2-not-in-backups'; GRANT app_owner TO "app login";
      CREATE ROLE backup_reader LOGIN IN ROLE pg_read_all_data;`,
      'app',
    );
    const to = join(root, 'roles-dest');
    const { run, verify, outputs } = await runStep(
      postgresDump.expand({ target: { host: pg.host, port: pg.port, user: 'backup_reader' }, database: 'app', to }, context),
      root,
      env(),
    );
    expectOk(run, 'dump as backup_reader');
    expectOk(verify, 'verify');
    const roles = await readFile(join(to, outputs.backup!, 'roles.sql'), 'utf8');
    expect(roles).toContain('CREATE ROLE app_owner;\nALTER ROLE app_owner WITH NOSUPERUSER INHERIT NOCREATEROLE NOCREATEDB NOLOGIN');
    expect(roles).toContain('CREATE ROLE "app login";\nALTER ROLE "app login" WITH NOSUPERUSER NOINHERIT NOCREATEROLE NOCREATEDB LOGIN');
    expect(roles).toMatch(/^GRANT app_owner TO "app login"/m);
    expect(roles).not.toMatch(/PASSWORD|SCRAM|md5|hunter2/);
    expect(roles).toMatch(/^GRANT pg_read_all_data TO backup_reader/m);
    await pg.psql(`DROP ROLE "app login", backup_reader, app_owner;`, 'app');
  });

  it('writes gzip and custom format to a local folder', async () => {
    const to = join(root, 'local-dest');
    const { run, outputs } = await runStep(expand(to, { compress: 'gzip', format: 'custom' }), root, env());
    expectOk(run, 'dump');
    const manifest = JSON.parse(await readFile(join(to, outputs.backup!, 'manifest.json'), 'utf8'));
    expect(manifest.files[0].name).toBe('dump.custom.gz');
    const data = await readFile(join(to, outputs.backup!, 'dump.custom.gz'));
    expect(data.subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]));
    expect(manifest.tables['auth.users']).toBe(2000);
  });

  it('takes row counts and data from one snapshot, not from writes committed while it runs', async () => {
    const to = join(root, 'snapshot-dest');
    // The lock stalls pg_dump (and the counts) after the snapshot was exported; rows inserted then are not in it.
    const locker = await lockOrders(pg);
    const step = runStep(expand(to), root, env());
    let waiting = '';
    for (let attempt = 0; attempt < 200 && waiting !== '1'; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      waiting = (
        await pg.psql(`SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pg_dump' AND wait_event_type = 'Lock'`)
      ).trim();
    }
    await pg.psql(`INSERT INTO auth.users (email, created_at) SELECT 'late' || i, now() FROM generate_series(1, 10) i`, 'app');
    locker.stdin.end('COMMIT;\n');
    const { run, outputs } = await step;
    expectOk(run, 'dump');
    await pg.psql(`DELETE FROM auth.users WHERE email LIKE 'late%'`, 'app');
    expect(waiting).toBe('1');
    const manifest = JSON.parse(await readFile(join(to, outputs.backup!, 'manifest.json'), 'utf8'));
    expect(manifest.tables['auth.users']).toBe(2000);
    const sql = (await runShell(`zstd -dc ${join(to, outputs.backup!, 'dump.sql.zst')}`)).stdout;
    const copy = sql.slice(sql.indexOf('COPY auth.users'));
    expect(copy.slice(0, copy.indexOf('\\.')).trim().split('\n').length - 1).toBe(2000);
  });

  it('reports the bytes written and the rate while a long dump runs, and uploads with rclone stats', async () => {
    const to = join(root, 'progress-dest');
    // The lock keeps pg_dump running for a few progress intervals.
    const locker = await lockOrders(pg);
    const step = runStep(expand(to), root, { ...env(), RUNBOOK_PROGRESS_INTERVAL: '1' });
    await new Promise((resolve) => setTimeout(resolve, 3500));
    locker.stdin.end('COMMIT;\n');
    const { run } = await step;
    expectOk(run, 'dump');
    expect(run.stdout).toMatch(/postgres\.dump: \d+ MiB written, \d+ MiB\/s/);
    expect(run.stderr).toMatch(/NOTICE: +[\d.]+ \w*B \/ [\d.]+ \w*B, \d+%, /);
  });

  it('fails and leaves no manifest when pg_dump dies half way', async () => {
    const to = s3.remotePath('postgres/killed');
    // A second session holds a lock, so pg_dump is provably running (waiting) when its backend is terminated.
    const locker = await lockOrders(pg);
    const step = runStep(expand(to), root, env());
    let terminated = '';
    for (let attempt = 0; attempt < 200 && terminated !== 't'; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      terminated = (
        await pg.psql(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'pg_dump' AND datname = 'app'`)
      ).trim();
    }
    locker.stdin.end('COMMIT;\n');
    const { run } = await step;
    expect(terminated).toBe('t');
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(/pg_dump/);
    expect(await manifestsUnder(to)).toEqual([]);
    expect(await readdir(staging)).toEqual([]);
  });

  describe('as a user that is no superuser and cannot read everything', () => {
    const dumpAs = (user: string, to: string) =>
      runStep(postgresDump.expand({ target: { host: pg.host, port: pg.port, user }, database: 'app', to }, context), root, env());
    const expectRefused = async (user: string, count: number, first: string) => {
      const to = s3.remotePath(`postgres/denied-${user}`);
      const { run } = await dumpAs(user, to);
      expect(run.code).toBe(1);
      expect(run.stderr).toContain(
        `postgres.dump: ${user} cannot read ${count} tables or sequences of app at 127.0.0.1:${pg.port} (first: ${first}). Dump as a superuser (for the supabase/postgres image: supabase_admin)`,
      );
      // Refused before pg_dump ran: no misleading snapshot error, nothing stored.
      expect(run.stderr).not.toMatch(/pg_dump|snapshot/);
      expect(await manifestsUnder(to)).toEqual([]);
    };
    afterAll(async () => {
      await pg.psql(`DROP OWNED BY dumper, nousage, noseq; DROP ROLE dumper, nousage, noseq;`, 'app');
    });

    it('fails before dumping, naming a table it cannot SELECT', async () => {
      await pg.psql(
        `CREATE ROLE dumper LOGIN; GRANT USAGE ON SCHEMA auth TO dumper; GRANT SELECT ON ALL TABLES IN SCHEMA public TO dumper;
         GRANT SELECT ON ALL SEQUENCES IN SCHEMA public, auth TO dumper;`,
        'app',
      );
      await expectRefused('dumper', 1, 'auth.users');
    });

    it('names the tables of a schema it has no USAGE on', async () => {
      await pg.psql(
        `CREATE ROLE nousage LOGIN; GRANT SELECT ON ALL TABLES IN SCHEMA public, auth TO nousage; GRANT SELECT ON ALL SEQUENCES IN SCHEMA public, auth TO nousage;`,
        'app',
      );
      await expectRefused('nousage', 2, 'auth.users, auth.users_id_seq');
    });

    it('names sequences it cannot read, the first five and the count', async () => {
      await pg.psql(
        `CREATE ROLE noseq LOGIN; GRANT USAGE ON SCHEMA auth TO noseq; GRANT SELECT ON ALL TABLES IN SCHEMA public, auth TO noseq;
         CREATE SEQUENCE public.s1; CREATE SEQUENCE public.s2; CREATE SEQUENCE public.s3; CREATE SEQUENCE public.s4;`,
        'app',
      );
      try {
        await expectRefused('noseq', 6, 'auth.users_id_seq, public.orders_id_seq, public.s1, public.s2, public.s3');
      } finally {
        await pg.psql(`DROP SEQUENCE public.s1, public.s2, public.s3, public.s4;`, 'app');
      }
    });
  });

  it('records the database owner, ACL, settings, comment and extensions in the manifest', async () => {
    await pg.psql(
      `CREATE ROLE app_admin NOLOGIN; CREATE ROLE app_web LOGIN; ALTER DATABASE app OWNER TO app_admin;
       REVOKE CONNECT ON DATABASE app FROM PUBLIC; GRANT CONNECT ON DATABASE app TO app_web;
       ALTER DATABASE app SET "app.settings.jwt_exp" TO '3600'; ALTER ROLE app_web IN DATABASE app SET statement_timeout TO '8s';
       COMMENT ON DATABASE app IS 'the app''s data'; CREATE SCHEMA extensions; CREATE EXTENSION pgcrypto SCHEMA extensions;`,
      'app',
    );
    try {
      const to = join(root, 'properties-dest');
      const { run, outputs } = await runStep(expand(to), root, env());
      expectOk(run, 'dump');
      const manifest = JSON.parse(await readFile(join(to, outputs.backup!, 'manifest.json'), 'utf8'));
      expect(manifest.database).toEqual({
        owner: 'app_admin',
        acl: [
          { grantee: null, privilege: 'TEMPORARY', grantable: false, grantor: 'app_admin' },
          { grantee: 'app_admin', privilege: 'CONNECT', grantable: false, grantor: 'app_admin' },
          { grantee: 'app_admin', privilege: 'CREATE', grantable: false, grantor: 'app_admin' },
          { grantee: 'app_admin', privilege: 'TEMPORARY', grantable: false, grantor: 'app_admin' },
          { grantee: 'app_web', privilege: 'CONNECT', grantable: false, grantor: 'app_admin' },
        ],
        settings: [
          { role: null, settings: ['app.settings.jwt_exp=3600'] },
          { role: 'app_web', settings: ['statement_timeout=8s'] },
        ],
        comment: "the app's data",
        extensions: [
          { name: 'pgcrypto', owner: 'postgres', schema: 'extensions', version: expect.any(String) },
          { name: 'plpgsql', owner: 'postgres', schema: 'pg_catalog', version: '1.0' },
        ],
      });
    } finally {
      await pg.psql(
        `DROP EXTENSION pgcrypto; DROP SCHEMA extensions; ALTER DATABASE app OWNER TO postgres; GRANT ALL ON DATABASE app TO PUBLIC;
         REVOKE ALL ON DATABASE app FROM app_web; ALTER DATABASE app RESET ALL; ALTER ROLE app_web IN DATABASE app RESET ALL;
         COMMENT ON DATABASE app IS NULL; DROP ROLE app_web, app_admin;`,
        'app',
      );
    }
  });

  it('verify fails when the manifest lists no tables but the source database has some, and passes for an empty database', async () => {
    const to = join(root, 'empty-tables');
    const { run, outputs } = await runStep(expand(to), root, env());
    expectOk(run, 'dump');
    const { writeFile } = await import('node:fs/promises');
    const manifestFile = join(to, outputs.backup!, 'manifest.json');
    const manifest = JSON.parse(await readFile(manifestFile, 'utf8'));
    await writeFile(manifestFile, JSON.stringify({ ...manifest, tables: {} }));
    const verify = await runShell(expand(to).verify.run, env());
    expect(verify.code).toBe(1);
    expect(verify.stderr).toContain(
      `postgres.dump: ${to}/${outputs.backup}/manifest.json lists no tables, but app at 127.0.0.1:${pg.port} has 4: the backup is empty`,
    );

    await pg.createDatabase('nothing');
    const empty = join(root, 'empty-db');
    const nothing = await runStep(expand(empty, { database: 'nothing' }), root, env());
    expectOk(nothing.run, 'dump of an empty database');
    expectOk(nothing.verify, 'verify of an empty database');
    expect(nothing.verify!.stdout).toContain(': 0 tables counted');
  });

  it('fails when the object store is down before the upload, and a re-run succeeds', async () => {
    const to = s3.remotePath('postgres/outage');
    const port = s3.port;
    await s3.stop();
    const failed = await runStep(expand(to), root, { ...env(), RCLONE_RETRIES: '1', RCLONE_LOW_LEVEL_RETRIES: '1' });
    expect(failed.run.code).not.toBe(0);
    expect(failed.outputs.backup).toBeUndefined();
    expect(await readdir(staging)).toEqual([]);

    s3 = await startS3({ root, bucket: 'backups', port });
    expect(await manifestsUnder(to)).toEqual([]);
    const again = await runStep(expand(to), root, env());
    expectOk(again.run, 'dump after the outage');
    expectOk(again.verify, 'verify after the outage');
    expect(await manifestsUnder(to)).toEqual([`${again.outputs.backup}/manifest.json`]);
  });

  it('verify fails when the stored bytes differ from the manifest', async () => {
    const to = s3.remotePath('postgres/tampered');
    const { run, outputs } = await runStep(expand(to), root, env());
    expectOk(run, 'dump');
    const { writeFile } = await import('node:fs/promises');
    const file = s3.objectFile(`postgres/tampered/${outputs.backup}/dump.sql.zst`);
    const bytes = await readFile(file);
    bytes[bytes.length - 1] = bytes[bytes.length - 1]! ^ 0xff;
    await writeFile(file, bytes);
    const verify = await runShell(expand(to).verify.run, env());
    expect(verify.code).toBe(1);
    expect(verify.stderr).toContain(`${to}/${outputs.backup}/dump.sql.zst is ${bytes.length} bytes, sha256`);
  });

  it('verify fails when the stored roles file differs from the manifest, and accepts a backup without one', async () => {
    const to = s3.remotePath('postgres/tampered-roles');
    const { run, outputs } = await runStep(expand(to), root, env());
    expectOk(run, 'dump');
    const { writeFile } = await import('node:fs/promises');
    const file = s3.objectFile(`postgres/tampered-roles/${outputs.backup}/roles.sql`);
    const roles = await readFile(file, 'utf8');
    await writeFile(file, roles.replace('CREATE ROLE postgres;', 'CREATE ROLE postgres;\nCREATE ROLE intruder;'));
    const verify = await runShell(expand(to).verify.run, env());
    expect(verify.code).toBe(1);
    // The listing's size already disagrees: the backup is not trusted (src/backup/trust.ts).
    expect(verify.stderr).toMatch(
      new RegExp(
        `${outputs.backup} is not trusted:? \\(?"roles\\.sql" is \\d+ bytes in the store, the manifest says ${Buffer.byteLength(roles)}`,
      ),
    );

    // A backup made before roles were stored lists the dump only.
    const manifestFile = s3.objectFile(`postgres/tampered-roles/${outputs.backup}/manifest.json`);
    const manifest = JSON.parse(await readFile(manifestFile, 'utf8'));
    manifest.files = manifest.files.slice(0, 1);
    await writeFile(manifestFile, JSON.stringify(manifest));
    const old = await runShell(expand(to).verify.run, env());
    expectOk(old, 'verify of a backup without roles.sql');
    expect(old.stdout).not.toContain('roles.sql');
  });

  it('dumps a container target through docker exec, with the password only in the environment', async () => {
    await pg.psql(`CREATE ROLE supabase_admin LOGIN SUPERUSER`);
    const to = join(root, 'container-dest');
    const step = postgresDump.expand(
      { target: { container: 'supabase-db', user: 'supabase_admin', password_secret: 'SUPABASE_DB_PASSWORD' }, database: 'app', to },
      context,
    );
    // The text is the inputs and the call: the target, and the password by reference only.
    expect(step.run).toBe(
      `PG_CONTAINER=supabase-db\nPG_USER=supabase_admin\nDATABASE=app\nDEST=${to}\nFORMAT=plain\nCOMPRESS=zstd\nLEVEL=3\nROLES_FILE=roles.sql\nSTAGING=''\nSIGN_WITH=''\nexport PGPASSWORD="\${SUPABASE_DB_PASSWORD}"\nrb_postgres_dump_run`,
    );
    expect(step.verify.run).toBe(
      `PG_CONTAINER=supabase-db\nPG_USER=supabase_admin\nDATABASE=app\nLOCATION=${to}\nROLES_FILE=roles.sql\nSIGN_WITH=''\nexport PGPASSWORD="\${SUPABASE_DB_PASSWORD}"\nrb_postgres_dump_verify`,
    );
    // Docker cannot run here: a docker that serves `exec` against the test server runs the words for real.
    const log = join(root, 'docker.log');
    const shim = await writeDockerExec(join(root, 'docker-bin'), pg);
    const { run, verify, outputs } = await runStep(step, root, {
      ...env(),
      PATH: `${shim}:${systemPath()}`,
      DOCKER_LOG: log,
      SUPABASE_DB_PASSWORD: 'not-in-argv',
    });
    await pg.psql(`DROP ROLE supabase_admin`);
    expectOk(run, 'dump');
    expectOk(verify, 'verify');
    const calls = (await readFile(log, 'utf8')).trim().split('\n');
    expect(calls).toContain('exec -i -e PGPASSWORD supabase-db psql -U supabase_admin -X -v ON_ERROR_STOP=1 -w -q -At -d app');
    expect(calls).toContainEqual(
      expect.stringMatching(/^exec -i -e PGPASSWORD supabase-db pg_dump -U supabase_admin -w --snapshot=[0-9A-F-]+ -d app$/),
    );
    expect(calls).toContain('exec -i -e PGPASSWORD supabase-db pg_dumpall -U supabase_admin -w -l app --roles-only --no-role-passwords');
    expect(calls.join('\n')).not.toContain('not-in-argv');
    const manifest = JSON.parse(await readFile(join(to, outputs.backup!, 'manifest.json'), 'utf8'));
    expect(manifest.source).toEqual({ database: 'app', container: 'supabase-db' });
    expect(manifest.tables).toEqual(await rowCounts(pg, 'app'));
    expect(postgresDump.requires({ target: { container: 'x' }, database: 'd', to: 't' })).toEqual([
      'docker',
      'zstd',
      'sha256sum',
      'rclone',
      'jq',
    ]);
  });
});
