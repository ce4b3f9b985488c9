// The whole local stack of docs/design.md §8 in one call: four PostgreSQL clusters, S3, DNS, git and files.
//
// Environment that stack.env() returns (and writeEnvFile writes) to point the shipped runbooks
// (runbooks/environments/demo.yaml) at this stack:
//   RUNBOOK_STACK_ROOT                 the stack's folder (repositories, storage, dam, scratch below it)
//   RUNBOOK_STACK_HOST                 127.0.0.1
//   RUNBOOK_STACK_PG_USER              postgres (trust authentication, no password)
//   RUNBOOK_STACK_PG_BIN               /usr/lib/postgresql/15/bin (initdb/pg_ctl for postgres.scratch)
//   RUNBOOK_STACK_<SERVICE>_PORT       per cluster: SUPABASE, TWENTY, GITEA, DAM
//   RUNBOOK_STACK_<SERVICE>_DATABASE   per cluster: supabase, twenty, gitea, dam
//   RUNBOOK_STACK_REPOSITORIES         ROOT/gitea/repositories (bare repositories, OWNER/REPO.git)
//   RUNBOOK_STACK_GITEA_DATA           ROOT/gitea/data (Gitea's conf/app.ini and attachments)
//   RUNBOOK_STACK_STORAGE              ROOT/storage (Supabase storage buckets)
//   RUNBOOK_STACK_DAM                  ROOT/dam (originals/ backed up, derivatives/ not)
//   RUNBOOK_STACK_SCRATCH              ROOT/scratch (world-writable, for throw-away clusters)
//   RUNBOOK_STACK_S3_ENDPOINT          http://127.0.0.1:PORT
//   RUNBOOK_STACK_S3_BUCKET            backups
//   RCLONE_CONFIG                      ROOT/rclone.conf, empty (quiets rclone's notice about a missing config)
//   RCLONE_CONFIG_BACKUP_*             the rclone remote `backup` (TYPE, PROVIDER, ENDPOINT, ACCESS_KEY_ID,
//                                      SECRET_ACCESS_KEY, FORCE_PATH_STYLE, REGION)
//   with DNS only:
//   RUNBOOK_STACK_DNS_SERVER           127.0.0.1
//   RUNBOOK_STACK_DNS_PORT             named's port
//   RUNBOOK_STACK_DNS_ZONE             example.test
//   RUNBOOK_STACK_DNS_KEY_NAME         runbook-key
//   RUNBOOK_STACK_DNS_KEY_FILE         path of key.conf
//   DNS_TSIG_KEY                       the contents of key.conf (multi-line; a secret of recover-full)
// rclone 1.60 also needs AWS_CA_BUNDLE unset, which an env file cannot express: the caller unsets it.
import { mkdtempSync, rmSync } from 'node:fs';
import { chmod, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDns, type DnsServer } from './dns.js';
import { DAM_DERIVATIVES, hashTree, seedDam, seedFiles, seedGiteaData, type DamFiles, type FileHashes } from './files.js';
import { createBareRepositories, listRepositories, type CreateBareRepositoriesOptions, type RefMap } from './git.js';
import { PG_BIN, startPostgres, type PgCluster } from './postgres.js';
import { startS3, type S3Server } from './s3.js';
import { SERVICE_DATABASES, seedService, sequenceValues, tableChecksums, type ServiceName, type TableChecksum } from './seed.js';
import { prepareServerConfig, randomSecret, type ServerConfig } from './server-config.js';

/** The clusters in the order of the recovery (docs/design.md §1). */
export const SERVICES: readonly ServiceName[] = ['supabase', 'twenty', 'gitea', 'dam'];

/** Size of a seeded file tree. */
export interface FileTreeSize {
  files: number;
  bytes: number;
}

/** Options of {@link startStack}. */
export interface StartStackOptions {
  /** Folder for everything (created if missing; removed by stop()). @default a new folder in the OS temp dir */
  root?: string;
  /** Data size: about `scale` MB of table data per database and `scale` MB per file tree. @default 1 */
  scale?: number;
  /** Start the DNS server. @default true */
  withDns?: boolean;
  /** Override the Supabase storage tree's size. @default about 10 + 10 × scale files, scale MB */
  storage?: FileTreeSize;
  /** Override the DAM originals' size. @default about 10 + 10 × scale files, scale MB */
  dam?: FileTreeSize;
  /** Override the git repositories' shape. @default 3 repositories (more at larger scales), 2 branches, 2 tags, 5 commits */
  repositories?: Omit<CreateBareRepositoriesOptions, 'dir'>;
}

/** What the stack looks like: compared before the disaster and after the recovery. */
export interface StackSnapshot {
  /** Per service: table checksums and sequence values of its database. */
  databases: Record<ServiceName, { tables: Record<string, TableChecksum>; sequences: Record<string, number | null> }>;
  /** `owner/repo → refs`. */
  repositories: Record<string, RefMap>;
  /** Supabase storage files, relative to `paths.storage`. */
  storage: FileHashes;
  /** Gitea's own files (configuration, attachments), relative to `paths.giteaData`. */
  giteaData: FileHashes;
  /** DAM originals, relative to `paths.dam` (`originals/…`); derivatives are not part of a backup. */
  damOriginals: FileHashes;
  /** The configuration checkout's commit and its secret files (absent once destroyed). */
  config?: { commit: string; secrets: Record<string, string> };
}

/** Folders of the stack's on-disk data. */
export interface StackPaths {
  root: string;
  repositories: string;
  giteaData: string;
  storage: string;
  dam: string;
  scratch: string;
}

/** A running local stack. */
export interface Stack {
  root: string;
  scale: number;
  /** The current cluster of each service (replaced by recreateEmptyClusters()). */
  clusters: Record<ServiceName, PgCluster>;
  s3: S3Server;
  dns?: DnsServer;
  paths: StackPaths;
  /** What was seeded at start. */
  seeded: { repositories: Record<string, RefMap>; storage: FileHashes; dam: DamFiles };
  /** Variables pointing the shipped runbooks at this stack (listed at the top of stack.ts). */
  env(): Record<string, string>;
  /** Writes env() as a dotenv file for `runbook exec --env-file` (mode 0600: it holds the TSIG key). */
  writeEnvFile(path: string): Promise<void>;
  /** Checksums of every database, repository and backed-up file. */
  snapshot(): Promise<StackSnapshot>;
  /** The disaster: stops and deletes the clusters, repositories, files and the configuration checkout; S3 and DNS stay. */
  destroyServices(): Promise<void>;
  /** Fresh empty clusters (only the `postgres` database) on the same ports, as on a fresh VPS. */
  recreateEmptyClusters(): Promise<void>;
  /** Stops every server by PID and removes the root folder. */
  stop(): Promise<void>;
}

const SAFE_VALUE = /^[A-Za-z0-9_./:@,+=%-]*$/;

/**
 * Formats variables as dotenv lines for src/engine/env-file.ts: plain values bare; anything else
 * (notably the multi-line TSIG key) in double quotes with `\\`, `\"` and `\n` escapes, because
 * that parser reads one line per variable and trims it.
 */
export const formatEnvFile = (values: Record<string, string>): string =>
  Object.entries(values)
    .map(([key, value]) => {
      if (SAFE_VALUE.test(value)) return `${key}=${value}`;
      return `${key}="${value.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('\r', '').replaceAll('\n', '\\n')}"`;
    })
    .join('\n')
    .concat('\n');

/** Stacks still running in this process; one set of signal handlers serves them all. */
const running = new Set<{ pids: () => number[]; root: string }>();

const cleanupSync = () => {
  for (const stack of running) {
    for (const pid of stack.pids()) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    rmSync(stack.root, { recursive: true, force: true, maxRetries: 3 });
  }
  running.clear();
};

const onSignal = (signal: NodeJS.Signals) => {
  cleanupSync();
  removeHandlers();
  // Re-raise for the default action unless someone else (the CLI) handles the signal.
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
};

const onExit = () => cleanupSync();

const installHandlers = () => {
  if (running.size !== 1) return;
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('exit', onExit);
};

function removeHandlers() {
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  process.off('exit', onExit);
}

const throwFirstRejection = (results: PromiseSettledResult<unknown>[]): void => {
  for (const result of results) if (result.status === 'rejected') throw result.reason;
};

const defaultTree = (scale: number): FileTreeSize => ({
  files: Math.min(2000, Math.round(10 + 10 * scale)),
  bytes: Math.round(scale * 1024 * 1024),
});

/**
 * Starts and seeds the whole stack on 127.0.0.1 (servers in parallel, then the seeds in parallel).
 * While it runs, SIGINT, SIGTERM and process exit kill its servers by PID and remove its folder.
 * If starting fails, whatever started is stopped and the folder removed before the error is thrown.
 */
export const startStack = async ({
  root: rootOption,
  scale = 1,
  withDns = true,
  storage,
  dam,
  repositories,
}: StartStackOptions = {}): Promise<Stack> => {
  const root = rootOption ?? mkdtempSync(join(tmpdir(), 'runbook-stack-'));
  await mkdir(root, { recursive: true });
  // An empty rclone config: remotes come from RCLONE_CONFIG_* variables, and rclone would otherwise
  // print a notice about a missing ~/.config/rclone/rclone.conf on every call.
  await writeFile(join(root, 'rclone.conf'), '');
  await chmod(root, 0o755);
  const paths: StackPaths = {
    root,
    repositories: join(root, 'gitea', 'repositories'),
    giteaData: join(root, 'gitea', 'data'),
    storage: join(root, 'storage'),
    dam: join(root, 'dam'),
    scratch: join(root, 'scratch'),
  };

  const clusters: Partial<Record<ServiceName, PgCluster>> = {};
  let s3: S3Server | undefined;
  let dns: DnsServer | undefined;
  const pids = () => [...Object.values(clusters).map((c) => c.pid), ...(s3 ? [s3.pid] : []), ...(dns ? [dns.pid] : [])];
  const registration = { pids, root };
  running.add(registration);
  installHandlers();

  const stopAll = async () => {
    await Promise.allSettled([...Object.values(clusters).map((c) => c.stop()), s3?.stop(), dns?.stop()]);
    running.delete(registration);
    if (running.size === 0) removeHandlers();
    await rm(root, { recursive: true, force: true, maxRetries: 3 });
  };

  let seeded: Stack['seeded'];
  let config: ServerConfig | undefined;
  try {
    // The demo's services run outside Docker: its configuration repository holds no service, but
    // it and its secrets go through the same backup and recovery as production's.
    config = await prepareServerConfig(root, {
      files: { 'compose.yaml': '# The demo stack runs outside Docker (tools/stack): nothing for Compose to start.\nservices: {}\n' },
      secrets: `SUPABASE_JWT_SECRET=${randomSecret('jwt')}\n`,
    });
    await mkdir(paths.scratch, { recursive: true });
    await chmod(paths.scratch, 0o1777);
    const repoShape = { count: Math.min(12, 3 + Math.floor(scale)), branches: 2, tags: 2, commits: 5, ...repositories };
    const servers = Promise.allSettled([
      ...SERVICES.map(async (service) => {
        clusters[service] = await startPostgres({ root, name: service });
        await seedService(service, clusters[service], scale);
      }),
      startS3({ root }).then((server) => void (s3 = server)),
      withDns ? startDns({ root }).then((server) => void (dns = server)) : undefined,
    ]).then(throwFirstRejection);
    const trees = Promise.all([
      createBareRepositories({ dir: paths.repositories, ...repoShape }),
      seedFiles({
        dir: paths.storage,
        ...(storage ?? defaultTree(scale)),
        seed: 'storage',
        folders: ['avatars', 'documents', 'public-media'],
      }),
      seedDam({ dir: paths.dam, ...(dam ?? defaultTree(scale)) }),
      seedGiteaData(paths.giteaData),
    ]);
    // allSettled: a failure must not leave other starts running while stopAll cleans up.
    throwFirstRejection(await Promise.allSettled([servers, trees]));
    const [repos, storageFiles, damFiles] = await trees;
    seeded = { repositories: repos, storage: storageFiles, dam: damFiles };
  } catch (error) {
    await stopAll();
    throw error;
  }
  const liveS3 = s3 as S3Server;
  const serverConfig = config!;
  const live = clusters as Record<ServiceName, PgCluster>;
  const ports = Object.fromEntries(SERVICES.map((service) => [service, live[service].port])) as Record<ServiceName, number>;

  const env = (): Record<string, string> => {
    const values: Record<string, string> = {
      RUNBOOK_STACK_ROOT: root,
      RUNBOOK_STACK_HOST: '127.0.0.1',
      RUNBOOK_STACK_PG_USER: 'postgres',
      RUNBOOK_STACK_PG_BIN: PG_BIN,
    };
    for (const service of SERVICES) {
      values[`RUNBOOK_STACK_${service.toUpperCase()}_PORT`] = String(ports[service]);
      values[`RUNBOOK_STACK_${service.toUpperCase()}_DATABASE`] = SERVICE_DATABASES[service];
    }
    Object.assign(values, {
      RUNBOOK_STACK_REPOSITORIES: paths.repositories,
      RUNBOOK_STACK_GITEA_DATA: paths.giteaData,
      RUNBOOK_STACK_STORAGE: paths.storage,
      RUNBOOK_STACK_DAM: paths.dam,
      RUNBOOK_STACK_SCRATCH: paths.scratch,
      RUNBOOK_STACK_S3_ENDPOINT: liveS3.endpoint,
      RUNBOOK_STACK_S3_BUCKET: liveS3.bucket,
      ...liveS3.rcloneEnv('backup'),
      RCLONE_CONFIG: join(root, 'rclone.conf'),
      ...serverConfig.env(),
    });
    if (dns) {
      Object.assign(values, {
        RUNBOOK_STACK_DNS_SERVER: dns.server,
        RUNBOOK_STACK_DNS_PORT: String(dns.port),
        RUNBOOK_STACK_DNS_ZONE: dns.zone,
        RUNBOOK_STACK_DNS_KEY_NAME: dns.keyName,
        RUNBOOK_STACK_DNS_KEY_FILE: dns.keyFile,
        DNS_TSIG_KEY: dns.keyText,
      });
    }
    return values;
  };

  return {
    root,
    scale,
    clusters: live,
    s3: liveS3,
    dns,
    paths,
    seeded,
    env,
    writeEnvFile: (path) => writeFile(path, formatEnvFile(env()), { mode: 0o600 }),
    snapshot: async () => {
      const databases = Object.fromEntries(
        await Promise.all(
          SERVICES.map(async (service) => {
            const db = SERVICE_DATABASES[service];
            const [tables, sequences] = await Promise.all([tableChecksums(live[service], db), sequenceValues(live[service], db)]);
            return [service, { tables, sequences }] as const;
          }),
        ),
      ) as StackSnapshot['databases'];
      return {
        databases,
        repositories: await listRepositories(paths.repositories).catch(() => ({})),
        storage: await hashTree(paths.storage),
        giteaData: await hashTree(paths.giteaData),
        damOriginals: await hashTree(paths.dam, { exclude: DAM_DERIVATIVES }),
        config: await serverConfig.snapshot().catch(() => undefined),
      };
    },
    destroyServices: async () => {
      await Promise.all(SERVICES.map((service) => live[service].destroy()));
      await Promise.all(
        [paths.repositories, paths.giteaData, paths.storage, paths.dam].map((dir) => rm(dir, { recursive: true, force: true })),
      );
      await serverConfig.destroy();
    },
    recreateEmptyClusters: async () => {
      await Promise.all(SERVICES.map((service) => live[service].destroy()));
      await Promise.all(
        SERVICES.map(async (service) => (live[service] = await startPostgres({ root, name: service, port: ports[service] }))),
      );
    },
    stop: stopAll,
  };
};
