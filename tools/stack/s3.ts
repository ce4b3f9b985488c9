// An S3-compatible endpoint on loopback (s3rver in a child process) that rclone's s3 backend talks to.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import type { Socket } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { trackPid, untrackPid } from './registry.js';
import { repository } from './repository.js';
import { terminatePid } from './run.js';

/** Options of {@link startS3}. */
export interface StartS3Options {
  /** Folder under which `s3/` (the stored objects) is created; must exist. */
  root: string;
  /** Bucket created at start. @default 'backups' */
  bucket?: string;
  /** TCP port on 127.0.0.1. @default a free port chosen by the OS at bind time */
  port?: number;
}

/** A running S3 endpoint (access key and secret are both `S3RVER`). */
export interface S3Server {
  port: number;
  /** `http://127.0.0.1:PORT` */
  endpoint: string;
  /** Folder where objects are stored on disk (`DIR/BUCKET/KEY._S3rver_object`). */
  dir: string;
  bucket: string;
  /** PID of the child Node process serving S3. */
  pid: number;
  /**
   * `RCLONE_CONFIG_<REMOTE>_*` variables that define an rclone remote for this endpoint without a
   * config file. Callers must also unset `AWS_CA_BUNDLE` for rclone 1.60 (docs/design.md §8).
   * @default remote 'backup'
   */
  rcloneEnv(remote?: string): Record<string, string>;
  /** `${remote}:${bucket}/${path}` — an rclone path inside the bucket. @default remote 'backup' */
  remotePath(path: string, remote?: string): string;
  /** Path on disk of the stored object `key` (to corrupt or delete it behind S3's back). */
  objectFile(key: string): string;
  /** SIGTERM the child by PID (SIGKILL after a grace period); resolves once it is gone. */
  stop(): Promise<void>;
}

const here = dirname(fileURLToPath(import.meta.url));

/** Compiled entry beside us (dist-tools), or the source text run with `node -e` (vitest runs tools/stack/). */
const serverCommand = (): string[] => {
  const compiled = join(here, 's3-server.js');
  if (existsSync(compiled)) return [compiled];
  return ['--input-type=module', '-e', readFileSync(join(here, 's3-server.ts'), 'utf8')];
};

const waitForReady = (child: ReturnType<typeof spawn>): Promise<number> =>
  new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => reject(new Error(`s3rver did not start within 30s: ${stderr.trim()}`)), 30_000);
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
      const match = /^ready (\d+)$/m.exec(stdout);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    });
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`s3rver exited before it was ready (${signal ?? `exit ${code}`}): ${stderr.trim()}`));
    });
    child.once('error', reject);
  });

/** Starts s3rver in a child Node process on 127.0.0.1, storing objects in `ROOT/s3/`. */
export const startS3 = async ({ root, bucket = 'backups', port = 0 }: StartS3Options): Promise<S3Server> => {
  const dir = join(root, 's3');
  await mkdir(dir, { recursive: true });
  const child = spawn(process.execPath, serverCommand(), {
    cwd: repository, // resolves the `s3rver` import when run from source text
    env: { ...process.env, S3_SERVER_CONFIG: JSON.stringify({ port, directory: dir, bucket }) },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error(`cannot start s3rver (${process.execPath})`);
  trackPid(pid, 's3rver');
  let actualPort: number;
  try {
    actualPort = await waitForReady(child);
  } catch (error) {
    await terminatePid(pid, 1_000);
    untrackPid(pid);
    throw error;
  }
  // Keep draining so a chatty child never blocks on a full pipe; unref so a script that forgets
  // stop() can still exit — the child then sees its stdin close and exits too.
  child.stdout?.resume();
  child.stderr?.resume();
  for (const stream of [child.stdin, child.stdout, child.stderr]) (stream as unknown as Socket | null)?.unref();
  child.unref();
  const endpoint = `http://127.0.0.1:${actualPort}`;

  return {
    port: actualPort,
    endpoint,
    dir,
    bucket,
    pid,
    rcloneEnv: (remote = 'backup') => {
      // rclone 1.60 only uppercases the remote's name (a `-` stays, so use names without one in shells).
      const prefix = `RCLONE_CONFIG_${remote.toUpperCase()}_`;
      return {
        [`${prefix}TYPE`]: 's3',
        [`${prefix}PROVIDER`]: 'Other',
        [`${prefix}ENDPOINT`]: endpoint,
        [`${prefix}ACCESS_KEY_ID`]: 'S3RVER',
        [`${prefix}SECRET_ACCESS_KEY`]: 'S3RVER',
        [`${prefix}FORCE_PATH_STYLE`]: 'true',
        [`${prefix}REGION`]: 'us-east-1',
      };
    },
    remotePath: (path, remote = 'backup') => `${remote}:${bucket}/${path.replace(/^\/+/, '')}`,
    objectFile: (key) => {
      const parts = key.split('/');
      const last = parts.pop() ?? '';
      return join(dir, bucket, ...parts, `${last}._S3rver_object`);
    },
    stop: async () => {
      await terminatePid(pid);
      child.stdin?.destroy();
      untrackPid(pid);
    },
  };
};
