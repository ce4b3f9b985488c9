// A backup rewritten consistently by whoever can write the bucket (data and manifest checksums
// together): the plain dump's psql meta-commands and the roles file's extra lines must never run,
// and roles with SUPERUSER, REPLICATION or BYPASSRLS are refused unless the restore allows them.
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExpandContext } from '../../src/actions/action.js';
import { postgresDump } from '../../src/actions/postgres.dump/index.js';
import { postgresRestore } from '../../src/actions/postgres.restore/index.js';
import type { PostgresRestoreInput } from '../../src/runbook/schema.generated.js';
import { startPostgres, type PgCluster } from '../../tools/stack/postgres.js';
import { expectOk, requireBinaries, runStep } from '../backup/shell.js';
import { databaseNames, seedMixed, tableContents } from './postgres-fixture.js';

const context: ExpandContext = { runbook: 'test', stepId: 'restore', secrets: [] };

/** Where a test's injected command would leave its trace. */
const exists = (path: string) =>
  stat(path).then(
    () => true,
    () => false,
  );

describe('postgres.restore of a consistently rewritten backup', () => {
  let root: string;
  let dest: string;
  let cluster: PgCluster;
  let original: string;
  let before: Record<string, string>;
  let databasesBefore: string;
  let serial = 0;
  const marker = () => join(root, 'MARKER');
  const restore = (input: Partial<PostgresRestoreInput> = {}) =>
    postgresRestore.expand(
      // Unsigned on purpose: this is the defence when the signature is not there to help.
      { target: { host: cluster.host, port: cluster.port }, database: 'app', from: dest, allow_unsigned: true, ...input },
      context,
    );

  /** Copies the good backup into another folder with its dump and/or roles file edited, the manifest's sha256 and bytes rewritten to match. */
  const rewritten = async (edit: { dump?: (sql: string) => string; roles?: (sql: string) => string }): Promise<string> => {
    serial += 1;
    // An older, valid id with the manifest made to match: the rewrite is consistent, only a
    // signature could tell (these restores allow unsigned backups).
    const id = `2020-01-01T0000${String(serial).padStart(2, '0')}Z`;
    const folder = join(dest, id);
    await cp(join(dest, original), folder, { recursive: true });
    const manifest = JSON.parse(await readFile(join(folder, 'manifest.json'), 'utf8')) as {
      id: string;
      created: string;
      files: { name: string; bytes: number; sha256: string }[];
    };
    manifest.id = id;
    manifest.created = `2020-01-01T00:00:${String(serial).padStart(2, '0')}Z`;
    for (const file of manifest.files) {
      const path = join(folder, file.name);
      let bytes: Buffer;
      if (file.name === 'roles.sql' && edit.roles) bytes = Buffer.from(edit.roles(await readFile(path, 'utf8')));
      else if (file.name.endsWith('.sql.zst') && edit.dump)
        bytes = execFileSync('zstd', ['-q', '-c'], { input: edit.dump(execFileSync('zstd', ['-dc', path]).toString()) });
      else continue;
      await writeFile(path, bytes);
      file.bytes = bytes.length;
      file.sha256 = createHash('sha256').update(bytes).digest('hex');
    }
    await writeFile(join(folder, 'manifest.json'), JSON.stringify(manifest));
    return id;
  };
  /** The dump without its own `\restrict KEY` and `\unrestrict KEY` lines, as someone rewriting it would leave it. */
  const unrestricted = (sql: string) => sql.replace(/^\\(un)?restrict \S+\n/gm, '');
  /** Restores backup `id` over app and expects a refusal that changed nothing and ran nothing (cleaning up first what a failure left, so one failure does not cascade). */
  const expectRefused = async (id: string, input: Partial<PostgresRestoreInput> = {}) => {
    const { run } = await runStep(restore({ replace: true, backup: id, ...input }), root);
    const ran = await exists(marker());
    const evil = (await cluster.psql(`SELECT count(*) FROM pg_roles WHERE rolname = 'evil'`)).trim();
    const databases = await databaseNames(cluster);
    await rm(marker(), { force: true });
    await cluster.psql('DROP ROLE IF EXISTS evil');
    if (!databases.includes('victim')) await cluster.createDatabase('victim');
    expect(ran, `the injected command ran:\n${run.stderr}`).toBe(false);
    expect(evil, 'role evil was created').toBe('0');
    expect(databases).toBe(databasesBefore);
    expect(run.code, run.stderr).toBe(1);
    expect(await tableContents(cluster, 'app')).toEqual(before);
    return run;
  };

  beforeAll(async () => {
    requireBinaries('psql', 'pg_dump', 'zstd', 'rclone', 'jq', 'sha256sum');
    root = await mkdtemp(join(tmpdir(), 'pg-tampered-'));
    dest = join(root, 'backups');
    cluster = await startPostgres({ root, name: 'tampered' });
    await seedMixed(cluster, 'src', 50);
    await cluster.createDatabase('victim');
    const dump = await runStep(
      postgresDump.expand({ target: { host: cluster.host, port: cluster.port }, database: 'src', to: dest }, context),
      root,
    );
    expectOk(dump.run, 'dump');
    original = dump.outputs.backup!;
    expectOk((await runStep(restore({ backup: original }), root)).run, 'restore of the untouched backup');
    before = await tableContents(cluster, 'app');
    databasesBefore = await databaseNames(cluster);
  });
  afterAll(async () => {
    await cluster?.destroy();
    await rm(root, { recursive: true, force: true });
  });

  it('the dump without its \\restrict line and with `\\! touch MARKER` appended runs nothing', async () => {
    const run = await expectRefused(await rewritten({ dump: (sql) => `${unrestricted(sql)}\n\\! touch ${marker()}\n` }));
    expect(run.stderr).toContain('backslash commands are restricted');
  });

  it('a meta-command after `;` on a statement line runs nothing', async () => {
    await expectRefused(
      await rewritten({ dump: (sql) => unrestricted(sql).replace(/^(CREATE TABLE .*)$/m, `SELECT 1; \\! touch ${marker()}\n$1`) }),
    );
  });

  it('`\\o |cmd` and `\\g |cmd` run nothing', async () => {
    await expectRefused(await rewritten({ dump: (sql) => `${unrestricted(sql)}\n\\o |touch ${marker()}\nSELECT 1;\n` }));
    await expectRefused(await rewritten({ dump: (sql) => `${unrestricted(sql)}\nSELECT 1 \\g |touch ${marker()}\n` }));
  });

  it('`\\copy … to program` runs nothing', async () => {
    await expectRefused(await rewritten({ dump: (sql) => `${unrestricted(sql)}\n\\copy (SELECT 1) TO PROGRAM 'touch ${marker()}'\n` }));
  });

  it('a meta-command right after a COPY terminator runs nothing', async () => {
    await expectRefused(await rewritten({ dump: (sql) => unrestricted(sql).replace(/^\\\.$/m, `\\.\n\\! touch ${marker()}`) }));
  });

  it('commands after the dump own \\unrestrict line run nothing', async () => {
    await expectRefused(await rewritten({ dump: (sql) => `${sql}\\! touch ${marker()}\n` }));
  });

  it('refuses a new role given SUPERUSER by ALTER ROLE … WITH, creating no role and touching no database', async () => {
    const run = await expectRefused(await rewritten({ roles: (sql) => `${sql}CREATE ROLE evil;\nALTER ROLE evil WITH SUPERUSER;\n` }));
    expect(run.stderr).toContain('evil');
    expect(run.stderr).toContain('privileged_roles');
  });

  it('refuses a new role with BYPASSRLS or REPLICATION', async () => {
    await expectRefused(await rewritten({ roles: (sql) => `${sql}CREATE ROLE evil;\nALTER ROLE evil WITH NOSUPERUSER BYPASSRLS;\n` }));
    await expectRefused(await rewritten({ roles: (sql) => `${sql}CREATE ROLE evil;\nALTER ROLE evil WITH LOGIN REPLICATION;\n` }));
  });

  it('refuses `CREATE ROLE evil SUPERUSER;` and any other line pg_dumpall does not write', async () => {
    await expectRefused(await rewritten({ roles: (sql) => `${sql}CREATE ROLE evil SUPERUSER;\n` }));
    await expectRefused(await rewritten({ roles: (sql) => `${sql}DROP DATABASE victim;\n` }));
  });

  it('never runs what follows a role setting or attribute on the same line', async () => {
    await expectRefused(
      await rewritten({ roles: (sql) => `${sql}CREATE ROLE evil;\nALTER ROLE evil SET work_mem TO '1MB'; DROP DATABASE victim;\n` }),
    );
    await expectRefused(
      await rewritten({ roles: (sql) => `${sql}CREATE ROLE evil;\nALTER ROLE evil SET work_mem TO '1MB'; \\! touch ${marker()}\n` }),
    );
    await expectRefused(
      await rewritten({
        roles: (sql) => `${sql}CREATE ROLE evil;\nALTER ROLE evil WITH LOGIN $runbook$ END $runbook$ \\! touch ${marker()}\n`,
      }),
    );
  });

  it('refuses a plain dump, changing nothing, when the psql that would restore it has no \\restrict', async () => {
    const { run } = await runStep(restore({ replace: true, backup: original }), root, {
      // A psql older than 15.14 (as in an older container image): \restrict is an unknown command.
      'BASH_FUNC_psql%%':
        '() { local input; input="$(cat)"; case "$input" in *"\\restrict "*) echo "invalid command \\restrict" >&2; return 1 ;; esac; printf "%s\\n" "$input" | command psql "$@"; }',
    });
    expect(run.code, run.stderr).toBe(1);
    expect(run.stderr).toContain('has no \\restrict');
    expect(run.stderr).toContain('Nothing was changed.');
    expect(await tableContents(cluster, 'app')).toEqual(before);
    expect(await databaseNames(cluster)).toBe(databasesBefore);
  });

  it('creates a privileged role that privileged_roles names', async () => {
    const id = await rewritten({ roles: (sql) => `${sql}CREATE ROLE trusted_admin;\nALTER ROLE trusted_admin WITH SUPERUSER NOLOGIN;\n` });
    const { run } = await runStep(
      restore({ replace: true, backup: id, privileged_roles: ['trusted_admin'] } as Partial<PostgresRestoreInput>),
      root,
    );
    expectOk(run, 'restore allowing trusted_admin');
    expect((await cluster.psql(`SELECT rolsuper FROM pg_roles WHERE rolname = 'trusted_admin'`)).trim()).toBe('t');
    await cluster.psql('DROP ROLE trusted_admin');
    before = await tableContents(cluster, 'app');
  });
});
