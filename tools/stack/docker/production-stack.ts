// The production shape on a real Docker engine, started from its configuration repository as on
// the server (config-repository.ts): the four database containers of
// runbooks/environments/production.yaml (supabase-db like the supabase/postgres image, the others like
// the official postgres image), an application stand-in on each, and the named volumes gitea_data,
// supabase_storage and dam_data owned by the containers' users. Everything carries LABEL; a container
// or volume of the same name without it belongs to someone else and stops the harness before it
// touches anything.
import { chmod, lchown, lstat, readlink, symlink, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { repository } from '../repository.js';
import { hashFile, seedDam, seedFiles, seedGiteaData } from '../files.js';
import { createBareRepositories, git } from '../git.js';
import { findFreePort } from '../ports.js';
import { findSystemBinary, runCommand } from '../run.js';
import { prepareServerConfig, type ServerConfig } from '../server-config.js';
import { APPLICATIONS, composeFile, DATABASE_SERVICES, envFile, LABEL, stackSecrets, stackVolumes } from './config-repository.js';
import { docker } from './engine.js';

export { LABEL };

/** A database container: its bootstrap superuser and the database its application uses. */
interface DatabaseContainer {
  name: string;
  superuser: string;
  database: string;
  /** The role the application writes as (supabase: `postgres`, not a superuser). */
  seed: { file: string; as: string; vars: Record<string, string> };
}

const here = join(repository, 'tools', 'stack', 'docker');

const databases = (rows: number): DatabaseContainer[] => [
  {
    name: 'supabase-db',
    superuser: 'supabase_admin',
    database: 'postgres',
    seed: { file: 'seed-supabase.sql', as: 'supabase_admin', vars: { rows: String(rows) } },
  },
  ...(['twenty', 'gitea', 'dam'] as const).map((app) => ({
    name: `${app}-db`,
    superuser: app,
    database: app,
    seed: { file: 'seed-app.sql', as: app, vars: { rows: String(rows), app } },
  })),
];

/** Every container compose.yaml names. */
const CONTAINERS = [...DATABASE_SERVICES, ...APPLICATIONS.map((app) => app.service), 'twenty-worker'];

/** The file volumes and the uid:gid their containers write as. */
export const FILE_VOLUMES = { gitea_data: 1000, supabase_storage: 999, dam_data: 33 } as const;
type FileVolume = keyof typeof FILE_VOLUMES;

/** Compose v2 when the machine has it, else Debian 12's v1 (as lib/compose.sh decides). */
const compose = async (file: string, args: string[]) => {
  const v2 = await docker(['compose', 'version'], { timeoutMs: 10_000 }).then(
    () => true,
    () => false,
  );
  if (v2) return docker(['compose', '-f', file, ...args], { timeoutMs: 600_000 });
  return runCommand(findSystemBinary('docker-compose', 'docker-compose'), ['-f', file, ...args], { timeoutMs: 600_000 });
};

/** The body of a health check, or why it failed; ok only on 200. */
export const checkHealth = async (url: string): Promise<{ ok: boolean; body: string }> => {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(10_000) });
    return { ok: response.status === 200, body: `${response.status} ${(await response.text()).trim()}` };
  } catch (error) {
    return { ok: false, body: String((error as Error).cause ?? error) };
  }
};

/** One file or folder: type, owner, mode, and for a file its size and sha256. */
type Entry = string;
/** Everything a restore must bring back, comparable with JSON equality. */
export interface ProductionSnapshot {
  databases: Record<string, Record<string, unknown>>;
  /** The configuration's commit and the secret files' sha256 and mode. */
  config: { commit: string; secrets: Record<string, string> };
  /** Volume → relative path → entry (derivatives of the DAM left out: regenerated, not backed up). */
  volumes: Record<string, Record<string, Entry>>;
  /** owner/repo → refs, HEAD. */
  repositories: Record<string, { refs: string; head: string }>;
}

export interface ProductionStack {
  /** The engine's path of a named volume's data. */
  volumePath(volume: FileVolume): string;
  /**
   * Writes the configuration repository (compose.yaml, .env) and starts the database containers
   * from it as the operator did on the server; waits for them when `ready`.
   */
  start(options: { ready: boolean }): Promise<void>;
  /**
   * What the applications write: tables, files, repositories. Then every application of the
   * compose file is started and its health check waited for.
   */
  seed(): Promise<{ rows: number; files: number; repositories: number }>;
  /** The configuration, runbook and mirror folders and the age key (after start()). */
  config(): ServerConfig;
  /** Each application's health check URL on loopback, by compose service. */
  healthUrls(): Record<string, string>;
  /** Variables for runbooks/environments/demo-docker.yaml (after start()). */
  env(): Record<string, string>;
  snapshot(): Promise<ProductionSnapshot>;
  /** Deletes every container and volume of the stack, and the server's configuration (the disaster, and the final cleanup). */
  wipe(): Promise<void>;
  /** The containers' names and users, for messages. */
  containers: readonly DatabaseContainer[];
}

const labelled = async (kind: 'container' | 'volume', name: string): Promise<'ours' | 'theirs' | 'none'> => {
  try {
    const { stdout } = await docker([
      kind,
      'inspect',
      '--format',
      `{{index .${kind === 'container' ? 'Config.' : ''}Labels "${LABEL}"}}`,
      name,
    ]);
    return stdout.trim() === 'yes' ? 'ours' : 'theirs';
  } catch {
    return 'none';
  }
};

/** Exact mode bits as four octal digits. */
const octal = (mode: number) => (mode & 0o7777).toString(8).padStart(4, '0');

/** Every file and folder under DIR (git objects and packs left out: refs say what they hold). */
const treeState = async (dir: string, exclude?: RegExp): Promise<Record<string, Entry>> => {
  const state: Record<string, Entry> = {};
  const names = (await readdir(dir, { recursive: true })).map(String).sort();
  for (const name of ['', ...names]) {
    if (exclude?.test(name) || /\.git\/(objects|refs|packed-refs|logs|FETCH_HEAD|info\/refs)/.test(name)) continue;
    const path = join(dir, name);
    const stat = await lstat(path);
    const owner = `${stat.uid}:${stat.gid} ${octal(stat.mode)}`;
    if (stat.isDirectory()) state[`${name}/`] = `dir ${owner}`;
    else if (stat.isFile()) state[name] = `file ${owner} ${stat.size} ${await hashFile(path)}`;
    else if (stat.isSymbolicLink()) state[name] = `link ${stat.uid}:${stat.gid} -> ${await readlink(path)}`;
    else state[name] = `other ${owner}`;
  }
  return state;
};

/** git in a repository owned by another user (Gitea's uid 1000). */
const gitIn = (repo: string, args: string[]) => git(['-c', 'safe.directory=*', '-C', repo, ...args]);

/** Gitea's hooks as Gitea writes them into every repository it manages. */
const giteaHooks = async (repo: string) => {
  const hooks = join(repo, 'hooks');
  for (const hook of ['pre-receive', 'update', 'post-receive', 'proc-receive']) {
    await mkdir(join(hooks, `${hook}.d`), { recursive: true });
    await writeFile(
      join(hooks, hook),
      `#!/usr/bin/env bash\n# AUTO GENERATED BY GITEA, DO NOT MODIFY\ndata=$(cat)\nexitcodes=""\nhookname=$(basename $0)\nGIT_DIR=\${GIT_DIR:-$(dirname $0)/..}\nfor hook in \${GIT_DIR}/hooks/\${hookname}.d/*; do\n  test -x "\${hook}" && test -f "\${hook}" || continue\n  echo "\${data}" | "\${hook}"\n  exitcodes="\${exitcodes} $?"\ndone\nfor i in \${exitcodes}; do\n  [ \${i} -eq 0 ] || exit \${i}\ndone\n`,
      { mode: 0o755 },
    );
    await writeFile(
      join(hooks, `${hook}.d`, 'gitea'),
      `#!/usr/bin/env bash\n/usr/local/bin/gitea hook --config=/data/gitea/conf/app.ini ${hook}\n`,
      {
        mode: 0o755,
      },
    );
  }
  await writeFile(join(repo, 'description'), `Gitea repository ${repo.split('/').slice(-2).join('/')}\n`);
};

export const productionStack = ({
  image,
  rootDir,
  root,
  rows = 20_000,
}: {
  image: string;
  rootDir: string;
  /** A folder for the server's configuration, runbook checkout and mirrors. */
  root: string;
  rows?: number;
}): ProductionStack => {
  const containers = databases(rows);
  const volumePath = (volume: FileVolume) => join(rootDir, 'volumes', volume, '_data');
  const allVolumes = stackVolumes();
  let config: ServerConfig | undefined;
  let ports: Record<string, number> = {};
  let secrets: Record<string, string> = {};
  const composeYaml = () => join(config!.configDir, 'compose.yaml');

  const refuseStrangers = async () => {
    for (const name of CONTAINERS) {
      if ((await labelled('container', name)) === 'theirs')
        throw new Error(`a container named ${name} exists that this harness did not create: not touching it`);
    }
    for (const name of allVolumes) {
      if ((await labelled('volume', name)) === 'theirs')
        throw new Error(`a volume named ${name} exists that this harness did not create: not touching it`);
    }
  };

  const psql = (container: DatabaseContainer, user: string, args: string[], input: string) =>
    docker(['exec', '-i', container.name, 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-U', user, '-d', container.database, ...args], {
      input,
      timeoutMs: 600_000,
    });

  const waitFor = async (what: string, ready: () => Promise<unknown>) => {
    const deadline = Date.now() + 120_000;
    for (;;) {
      try {
        return await ready();
      } catch (error) {
        if (Date.now() > deadline) throw new Error(`${what} not ready after 2 minutes: ${(error as Error).message}`);
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    }
  };
  const waitReady = (c: DatabaseContainer) =>
    waitFor(c.name, () => docker(['exec', c.name, 'pg_isready', '-q', '-h', '127.0.0.1', '-U', c.superuser]));

  const healthUrls = () =>
    Object.fromEntries(APPLICATIONS.map((app) => [app.service, `http://127.0.0.1:${ports[`${app.prefix}_HEALTH_PORT`]}/cgi-bin/health`]));

  return {
    containers,
    volumePath,
    config: () => config!,
    healthUrls,
    env: () => ({
      ...config!.env(),
      ...Object.fromEntries(Object.entries(ports).map(([name, port]) => [`RUNBOOK_STACK_${name}`, String(port)])),
    }),
    async start({ ready }) {
      await refuseStrangers();
      for (const app of APPLICATIONS) ports[`${app.prefix}_HEALTH_PORT`] = await findFreePort();
      secrets = stackSecrets();
      config = await prepareServerConfig(root, {
        files: { 'compose.yaml': composeFile(image), 'supabase/init.sql': await readFile(join(here, 'supabase-init.sql'), 'utf8') },
        secrets: envFile(secrets, { ...ports, ...Object.fromEntries(APPLICATIONS.map((app) => [`${app.prefix}_MIN_FILES`, 1])) }),
      });
      await compose(composeYaml(), ['up', '-d', ...DATABASE_SERVICES]);
      if (ready) await Promise.all(containers.map(waitReady));
    },
    async seed() {
      for (const c of containers) {
        const vars = Object.entries(c.seed.vars).flatMap(([k, v]) => ['-v', `${k}=${v}`]);
        await psql(c, c.seed.as, vars, await readFile(join(here, c.seed.file), 'utf8'));
      }
      // Gitea: bare repositories with Gitea's hooks, its configuration beside them, all uid 1000.
      const gitea = volumePath('gitea_data');
      const repositories = await createBareRepositories({
        dir: join(gitea, 'git', 'repositories'),
        count: 6,
        branches: 3,
        tags: 4,
        commits: 8,
      });
      for (const name of Object.keys(repositories)) await giteaHooks(join(gitea, 'git', 'repositories', `${name}.git`));
      await seedGiteaData(join(gitea, 'gitea'));
      // The SSH server's host keys and git's authorized_keys: lose them and every client is refused.
      await mkdir(join(gitea, 'ssh'), { recursive: true });
      await writeFile(join(gitea, 'ssh', 'ssh_host_ed25519_key'), 'test host key, not a real one\n', { mode: 0o600 });
      await writeFile(join(gitea, 'ssh', 'ssh_host_ed25519_key.pub'), 'ssh-ed25519 AAAAtest gitea\n', { mode: 0o644 });
      await mkdir(join(gitea, 'git', '.ssh'), { recursive: true, mode: 0o700 });
      await writeFile(
        join(gitea, 'git', '.ssh', 'authorized_keys'),
        'command="/usr/local/bin/gitea serv key-1" ssh-ed25519 AAAAtest user\n',
        {
          mode: 0o600,
        },
      );
      // Supabase storage: the Storage API's file backend layout, uid 999, mixed modes.
      const storage = volumePath('supabase_storage');
      const storageFiles = await seedFiles({
        dir: join(storage, 'stub', 'stub'),
        files: 300,
        bytes: 3_000_000,
        seed: 'storage',
        folders: ['avatars', 'documents'],
      });
      // The DAM: originals and derivatives (the backup leaves derivatives out).
      const dam = await seedDam({ dir: volumePath('dam_data'), files: 120, bytes: 2_000_000 });
      await mkdir(join(storage, 'stub', 'stub', 'empty-bucket'), { recursive: true });
      for (const [volume, uid] of Object.entries(FILE_VOLUMES)) {
        await runCommand('chown', ['-R', `${uid}:${uid}`, volumePath(volume as FileVolume)]);
      }
      // Links a DAM keeps: a relative one to its originals, an absolute one to a mount that is gone.
      await symlink('originals', join(volumePath('dam_data'), 'current'));
      await lchown(join(volumePath('dam_data'), 'current'), 33, 33);
      await symlink('/mnt/exports/dam', join(volumePath('dam_data'), 'exports'));
      // Modes as a real server has them: private files, group-readable ones, a private folder.
      let i = 0;
      for (const path of Object.keys(storageFiles)) {
        await chmod(join(storage, 'stub', 'stub', path), [0o640, 0o644, 0o600, 0o660][i++ % 4]!);
      }
      await chmod(join(storage, 'stub', 'stub', 'documents'), 0o750);
      await chmod(join(gitea, 'gitea', 'conf'), 0o750);
      // The applications' health checks require at least the files the seed leaves.
      const countFiles = async (dir: string) =>
        (await readdir(dir, { recursive: true, withFileTypes: true })).filter((e) => e.isFile()).length;
      const minFiles: Record<string, number> = {
        SUPABASE_MIN_FILES: await countFiles(storage),
        TWENTY_MIN_FILES: 0,
        GITEA_MIN_FILES: (await countFiles(gitea)) - (await countFiles(join(gitea, 'git', 'repositories'))),
        GITEA_MIN_REPOSITORIES: Object.keys(repositories).length,
        DAM_MIN_FILES: await countFiles(join(volumePath('dam_data'), 'originals')),
      };
      await writeFile(join(config!.configDir, '.env'), envFile(secrets, { ...ports, ...minFiles }), { mode: 0o600 });
      await compose(composeYaml(), ['up', '-d']);
      for (const [service, url] of Object.entries(healthUrls())) {
        await waitFor(service, async () => {
          const health = await checkHealth(url);
          if (!health.ok) throw new Error(health.body);
        });
      }
      return {
        rows: rows * 5,
        files: Object.keys(storageFiles).length + Object.keys(dam.originals).length + 21,
        repositories: Object.keys(repositories).length,
      };
    },
    async snapshot() {
      const fingerprint = await readFile(join(here, 'fingerprint.sql'), 'utf8');
      const snapshot: ProductionSnapshot = { databases: {}, config: await config!.snapshot(), volumes: {}, repositories: {} };
      for (const c of containers) {
        const { stdout } = await psql(c, c.superuser, ['-At'], fingerprint);
        snapshot.databases[c.name] = JSON.parse(stdout) as Record<string, unknown>;
      }
      snapshot.volumes.gitea_data = await treeState(volumePath('gitea_data'));
      snapshot.volumes.supabase_storage = await treeState(volumePath('supabase_storage'));
      snapshot.volumes.dam_data = await treeState(volumePath('dam_data'), /^derivatives(\/|$)/);
      const repositories = join(volumePath('gitea_data'), 'git', 'repositories');
      for (const owner of (await readdir(repositories)).sort()) {
        for (const repo of (await readdir(join(repositories, owner))).filter((n) => n.endsWith('.git')).sort()) {
          const path = join(repositories, owner, repo);
          snapshot.repositories[`${owner}/${repo}`] = {
            refs: (await gitIn(path, ['for-each-ref', '--format=%(refname) %(objectname)'])).stdout,
            head: (await gitIn(path, ['symbolic-ref', 'HEAD'])).stdout.trim(),
          };
        }
      }
      return snapshot;
    },
    async wipe() {
      for (const name of CONTAINERS) if ((await labelled('container', name)) === 'ours') await docker(['rm', '-f', '-v', name]);
      for (const volume of allVolumes) if ((await labelled('volume', volume)) === 'ours') await docker(['volume', 'rm', volume]);
      await config?.destroy();
    },
  };
};

/** Lines naming what differs between two snapshots (empty when the restore was exact). */
export const compareProductionSnapshots = (before: ProductionSnapshot, after: ProductionSnapshot): string[] => {
  const differences: string[] = [];
  const compareMaps = (what: string, a: Record<string, unknown>, b: Record<string, unknown>) => {
    for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
      const left = JSON.stringify(a[key]);
      const right = JSON.stringify(b[key]);
      if (left !== right) differences.push(`${what} ${key}: before ${left ?? 'missing'}, after ${right ?? 'missing'}`);
    }
  };
  for (const [name, database] of Object.entries(before.databases)) {
    const restored = after.databases[name] ?? {};
    for (const [part, value] of Object.entries(database)) {
      const other = restored[part];
      if (value && other && typeof value === 'object' && !Array.isArray(value) && part === 'tables') {
        compareMaps(`${name} table`, value as Record<string, unknown>, other as Record<string, unknown>);
      } else if (Array.isArray(value) && Array.isArray(other)) {
        const left = value.map((v) => JSON.stringify(v));
        const right = other.map((v) => JSON.stringify(v));
        for (const item of left.filter((v) => !right.includes(v))) differences.push(`${name} ${part}: lost ${item}`);
        for (const item of right.filter((v) => !left.includes(v))) differences.push(`${name} ${part}: gained ${item}`);
      } else if (JSON.stringify(value) !== JSON.stringify(other)) {
        differences.push(`${name} ${part}: before ${JSON.stringify(value)}, after ${JSON.stringify(other)}`);
      }
    }
  }
  compareMaps('configuration', before.config, after.config);
  for (const [volume, entries] of Object.entries(before.volumes)) compareMaps(`volume ${volume}`, entries, after.volumes[volume] ?? {});
  compareMaps('repository', before.repositories, after.repositories);
  return differences;
};
