// A real Docker engine for the production-shaped stack: the one already answering on the default
// socket, or Debian's dockerd started here without iptables, IP forwarding or a bridge (containers
// use --network none, so nothing listens beyond loopback) and stopped by its PID.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { repository } from '../repository.js';
import { trackPid, untrackPid } from '../registry.js';
import { findSystemBinary, runCommand, terminatePid, type RunOptions, type RunResult } from '../run.js';

/** Runs the docker client; rejects with its stderr when it fails. */
export const docker = (args: readonly string[], options: RunOptions = {}): Promise<RunResult> =>
  runCommand(findSystemBinary('docker', 'docker.io'), args, { timeoutMs: 300_000, ...options });

const answers = async (): Promise<boolean> => {
  try {
    await docker(['info', '--format', '{{.ServerVersion}}'], { timeoutMs: 10_000 });
    return true;
  } catch {
    return false;
  }
};

/** An engine the stack uses; stop() ends it only when this process started it. */
export interface DockerEngine {
  /** True when dockerd was started here (and stop() will end it). */
  startedHere: boolean;
  /** The engine's data root (where named volumes live: ROOT/volumes/NAME/_data). */
  rootDir: string;
  stop(): Promise<void>;
}

/**
 * The engine on the default socket, starting `dockerd` when none answers. Its log goes to
 * LOGDIR/dockerd.log. Fails naming the package when dockerd is missing, and with the log's tail when
 * it does not come up within a minute.
 */
export const startDockerEngine = async (logDir: string): Promise<DockerEngine> => {
  let pid: number | undefined;
  if (!(await answers())) {
    const dockerd = findSystemBinary('dockerd', 'docker.io');
    mkdirSync(logDir, { recursive: true });
    const log = join(logDir, 'dockerd.log');
    const child = spawn(dockerd, ['--iptables=false', '--ip-forward=false', '--bridge=none', '--ip-masq=false'], {
      stdio: ['ignore', openSync(log, 'a'), openSync(log, 'a')],
      detached: true,
    });
    pid = child.pid!;
    trackPid(pid, 'dockerd');
    child.unref();
    const deadline = Date.now() + 60_000;
    while (!(await answers())) {
      if (Date.now() > deadline || child.exitCode !== null) {
        await terminatePid(pid, 10_000);
        untrackPid(pid);
        const tail = readFileSync(log, 'utf8').split('\n').slice(-15).join('\n');
        throw new Error(`dockerd did not start within a minute:\n${tail}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
  const rootDir = (await docker(['info', '--format', '{{.DockerRootDir}}'])).stdout.trim();
  return {
    startedHere: pid !== undefined,
    rootDir,
    stop: async () => {
      if (pid === undefined) return;
      await terminatePid(pid, 30_000);
      untrackPid(pid);
    },
  };
};

const imageFiles = ['postgres-image.sh', 'entrypoint.sh', 'health-standin.sh'].map((name) =>
  join(repository, 'tools', 'stack', 'docker', name),
);

/** The test image's tag: its build script's and entrypoint's hash, so a change builds a new one. */
export const postgresImageTag = (): string => {
  const hash = createHash('sha256');
  for (const file of imageFiles) hash.update(readFileSync(file));
  return `runbook-test/postgres:15-${hash.digest('hex').slice(0, 12)}`;
};

/** Where built root filesystems are kept between runs: outside the repository, per machine. */
export const imageCacheDir = (): string => process.env.RUNBOOK_TEST_IMAGE_CACHE ?? join(homedir(), '.cache', 'runbook', 'images');

/**
 * The root filesystem of the test stack's PostgreSQL 15 image as a tar in the cache, built from
 * Debian packages (postgres-image.sh, about 100 s with debootstrap, root only) unless the cache
 * holds it. Two test files may ask at once (the Docker stack and the single executable's chroot):
 * flock makes the second wait for the first's build instead of building it again.
 */
export const ensureImageRootfs = async (log: (line: string) => void = () => {}): Promise<string> => {
  const tag = postgresImageTag();
  const tarball = join(imageCacheDir(), `${tag.replace(/[/:]/g, '-')}.tar`);
  if (existsSync(tarball)) return tarball;
  findSystemBinary('debootstrap', 'debootstrap');
  findSystemBinary('flock', 'util-linux');
  if (process.getuid?.() !== 0) throw new Error('building the test image needs root (debootstrap, chroot)');
  mkdirSync(dirname(tarball), { recursive: true });
  log(`building ${tag} from Debian packages (debootstrap; about 100 s, once per machine)`);
  const started = Date.now();
  const build = 'test -e "$2" || { bash "$1" "$2.building" && mv "$2.building" "$2"; }';
  await runCommand('flock', [`${tarball}.lock`, 'bash', '-c', build, 'build', imageFiles[0]!, tarball], { timeoutMs: 900_000 });
  log(`${tag} ready after ${Math.round((Date.now() - started) / 1000)} s`);
  return tarball;
};

/** The PostgreSQL 15 image of the test stack: the engine's, or imported from {@link ensureImageRootfs}. Resolves with its tag. */
export const ensurePostgresImage = async (log: (line: string) => void = () => {}): Promise<string> => {
  const tag = postgresImageTag();
  try {
    await docker(['image', 'inspect', tag], { timeoutMs: 30_000 });
    return tag;
  } catch {
    // not in the engine yet
  }
  const tarball = await ensureImageRootfs(log);
  const changes = [
    'ENV PATH=/usr/lib/postgresql/15/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    'ENV PGDATA=/var/lib/postgresql/data',
    'ENTRYPOINT ["/usr/local/bin/docker-entrypoint.sh"]',
    'CMD ["postgres"]',
  ];
  await docker(['import', ...changes.flatMap((change) => ['--change', change]), tarball, tag], { timeoutMs: 600_000 });
  return tag;
};
