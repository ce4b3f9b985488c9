// Throw-away PostgreSQL 15 clusters on loopback, one per service, for tests and the demo.
import { existsSync } from 'node:fs';
import { chmod, chown, mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { findFreePort } from './ports.js';
import { isAlive, runCommand, signalPid, userIds, waitForExit } from './run.js';
import { trackPid, untrackPid } from './registry.js';

/** Where Debian's postgresql-15 package puts the server binaries. */
export const PG_BIN = '/usr/lib/postgresql/15/bin';

/** Options of {@link startPostgres}. */
export interface StartPostgresOptions {
  /** Folder under which the cluster's folder `pg-NAME/` is created; must exist. */
  root: string;
  /** Name of the cluster (used in its folder name and in messages), e.g. `supabase`. */
  name: string;
  /** TCP port on 127.0.0.1. @default a free port (retried on a clash) */
  port?: number;
}

/** A running cluster: superuser `postgres`, trust authentication, TCP on 127.0.0.1 only. */
export interface PgCluster {
  name: string;
  host: '127.0.0.1';
  port: number;
  user: 'postgres';
  /** The data directory (owned by the `postgres` user). */
  dataDir: string;
  /** PID of the postmaster. */
  pid: number;
  /** Runs SQL through `psql -X -At -v ON_ERROR_STOP=1` over TCP and returns its stdout. @default database `postgres` */
  psql(sql: string, database?: string): Promise<string>;
  /** `CREATE DATABASE` (name quoted as an identifier). */
  createDatabase(database: string): Promise<void>;
  /** `pg_ctl stop -m fast`, then SIGKILL the postmaster if it is still alive. */
  stop(): Promise<void>;
  /** stop() and remove the cluster's folder. */
  destroy(): Promise<void>;
}

const quoteIdent = (name: string) => `"${name.replaceAll('"', '""')}"`;

const asPostgres = (args: string[]) => runCommand('runuser', ['-u', 'postgres', '--', ...args]);

const requireBinaries = () => {
  if (!existsSync(join(PG_BIN, 'initdb')) || !existsSync(join(PG_BIN, 'pg_ctl')))
    throw new Error(`${PG_BIN}/initdb not found: install the Debian package postgresql-15 (apt-get install postgresql-15)`);
};

/** Runs SQL on a cluster as the superuser; exported for callers that only know host and port. */
export const runPsql = async (port: number, sql: string, database = 'postgres'): Promise<string> => {
  const args = ['-X', '-At', '-v', 'ON_ERROR_STOP=1', '-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', '-d', database, '-f', '-'];
  // PG* variables of the caller's environment must not redirect the connection.
  const env = {
    PGHOST: undefined,
    PGPORT: undefined,
    PGDATABASE: undefined,
    PGUSER: undefined,
    PGSERVICE: undefined,
    PGPASSWORD: undefined,
    PGOPTIONS: undefined,
  };
  return (await runCommand('psql', args, { input: sql, env })).stdout;
};

const initCluster = async (clusterDir: string, dataDir: string) => {
  const { uid, gid } = await userIds('postgres');
  await mkdir(join(clusterDir, 'sock'), { recursive: true });
  await chown(clusterDir, uid, gid);
  await chown(join(clusterDir, 'sock'), uid, gid);
  await asPostgres(['test', '-w', clusterDir]).catch(() => {
    throw new Error(`the postgres user cannot reach ${clusterDir}: make every parent folder traversable (chmod o+x)`);
  });
  await asPostgres([join(PG_BIN, 'initdb'), '-A', 'trust', '-U', 'postgres', '-D', dataDir, '--no-sync', '-E', 'UTF8', '--locale=C.UTF-8']);
};

const startServer = async (clusterDir: string, dataDir: string, port: number) => {
  const options = `-p ${port} -k ${join(clusterDir, 'sock')} -c listen_addresses=127.0.0.1 -c fsync=off`;
  // -l: without a log file the postmaster inherits our pipes and runCommand would never see them close.
  await asPostgres([join(PG_BIN, 'pg_ctl'), '-D', dataDir, '-l', join(clusterDir, 'server.log'), '-o', options, '-w', '-t', '60', 'start']);
  const pidLine = (await readFile(join(dataDir, 'postmaster.pid'), 'utf8')).split('\n')[0] ?? '';
  const pid = Number(pidLine.trim());
  if (!Number.isInteger(pid) || pid <= 0) throw new Error(`cannot read the postmaster PID from ${dataDir}/postmaster.pid`);
  return pid;
};

const logTail = async (clusterDir: string) => {
  const log = await readFile(join(clusterDir, 'server.log'), 'utf8').catch(() => '');
  return log.split('\n').slice(-5).join('\n');
};

/**
 * Creates a fresh cluster in `ROOT/pg-NAME/data` (initdb as the `postgres` user) and starts it on
 * 127.0.0.1 with fsync off (test speed). Makes `root` traversable by others (o+x) so that the
 * `postgres` user reaches its folder.
 */
export const startPostgres = async ({ root, name, port }: StartPostgresOptions): Promise<PgCluster> => {
  requireBinaries();
  const clusterDir = join(root, `pg-${name}`);
  const dataDir = join(clusterDir, 'data');
  await chmod(root, 0o755);
  await rm(clusterDir, { recursive: true, force: true });
  await initCluster(clusterDir, dataDir);

  let pid = 0;
  let chosen = port ?? 0;
  for (let attempt = 1; ; attempt++) {
    chosen = port ?? (await findFreePort());
    try {
      pid = await startServer(clusterDir, dataDir, chosen);
      break;
    } catch (error) {
      // A free port can be taken between findFreePort and the bind; only then is a retry useful.
      if (port !== undefined || attempt >= 5)
        throw new Error(`cannot start PostgreSQL cluster ${name}: ${(error as Error).message}\n${await logTail(clusterDir)}`);
    }
  }
  trackPid(pid, `postgres ${name}`);

  const stop = async () => {
    if (isAlive(pid)) {
      await asPostgres([join(PG_BIN, 'pg_ctl'), '-D', dataDir, '-m', 'fast', '-w', '-t', '30', 'stop']).catch(() => undefined);
      if (!(await waitForExit(pid, 5_000))) {
        signalPid(pid, 'SIGKILL');
        await waitForExit(pid, 5_000);
      }
    }
    untrackPid(pid);
  };

  return {
    name,
    host: '127.0.0.1',
    port: chosen,
    user: 'postgres',
    dataDir,
    pid,
    psql: (sql, database) => runPsql(chosen, sql, database),
    createDatabase: async (database) => {
      await runPsql(chosen, `CREATE DATABASE ${quoteIdent(database)}`);
    },
    stop,
    destroy: async () => {
      await stop();
      await rm(clusterDir, { recursive: true, force: true });
    },
  };
};
