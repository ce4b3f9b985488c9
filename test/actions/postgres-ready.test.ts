// Readiness, not "running": a dump or restore that starts right after its server or container did
// waits (bounded) until the server answers a query, and fails naming the target and the last error
// when it never does.
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExpandContext } from '../../src/actions/action.js';
import { postgresDump } from '../../src/actions/postgres.dump/index.js';
import { postgresRestore } from '../../src/actions/postgres.restore/index.js';
import { findFreePort } from '../../tools/stack/ports.js';
import { systemPath } from '../../tools/stack/run.js';
import { expectOk, requireBinaries, runShell, runStep } from '../backup/shell.js';
import { seedMixed, startCluster, writeDockerExec, type OwnCluster } from './postgres-fixture.js';

const context: ExpandContext = { runbook: 'test', stepId: 'ready', secrets: [] };

describe('postgres actions wait for a server that is starting', () => {
  let root: string;
  let pg: OwnCluster;
  const env = (extra: Record<string, string> = {}) => ({ TMPDIR: join(root, 'staging'), ...extra });
  const to = () => join(root, 'backups');
  const dump = (port: number) => postgresDump.expand({ target: { host: '127.0.0.1', port }, database: 'app', to: to() }, context);
  const restore = (port: number, database: string) =>
    postgresRestore.expand({ allow_unsigned: true, target: { host: '127.0.0.1', port }, database, from: to() }, context);
  /** Starts the stopped server `ms` after the step began; resolves when it is up. */
  const startLater = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms)).then(() => pg.start());

  beforeAll(async () => {
    requireBinaries('psql', 'pg_dump', 'zstd', 'rclone', 'jq', 'sha256sum');
    root = await mkdtemp(join(tmpdir(), 'pg-ready-'));
    await mkdir(join(root, 'staging'));
    pg = await startCluster(root, 'late', 'postgres');
    await seedMixed(pg, 'app', 50);
    await pg.stop();
  });
  afterAll(async () => {
    await pg?.destroy();
    await rm(root, { recursive: true, force: true });
  });

  it('dumps from a server that starts 2.5 s after the step', async () => {
    try {
      const [step] = await Promise.all([runStep(dump(pg.port), root, env()), startLater(2500)]);
      expectOk(step.run, 'dump');
      expectOk(step.verify, 'verify');
      expect(step.run.stdout).toContain(`postgres.dump: waiting for 127.0.0.1:${pg.port} to accept connections (at most 60s)`);
    } finally {
      await pg.stop();
    }
  });

  it('restores into, and verifies on, a server that starts 2.5 s after each step', async () => {
    const step = restore(pg.port, 'app_copy');
    try {
      const [run] = await Promise.all([runShell(step.run, env()), startLater(2500)]);
      expectOk(run, 'restore');
      expect(run.stdout).toContain(`postgres.restore: waiting for 127.0.0.1:${pg.port} to accept connections`);
      await pg.stop();
      const [verify] = await Promise.all([runShell(step.verify.run, env()), startLater(2500)]);
      expectOk(verify, 'verify');
      expect(verify.stdout).toContain('verified app_copy: 4 tables match');
    } finally {
      await pg.stop();
    }
  });

  it('fails within the bound, naming the target and the last error, when no server ever starts', async () => {
    const port = await findFreePort();
    for (const text of [dump(port).run, restore(port, 'app').run, restore(port, 'app').verify.run]) {
      const started = Date.now();
      const result = await runShell(text, env({ RUNBOOK_PG_READY_TIMEOUT: '3' }));
      expect(result.code).toBe(1);
      expect(Date.now() - started).toBeLessThan(15_000);
      expect(result.stderr).toMatch(
        new RegExp(
          `: 127\\.0\\.0\\.1:${port} did not accept a query on (app|postgres) within 3s \\(RUNBOOK_PG_READY_TIMEOUT\\); last error: .*Connection refused`,
        ),
      );
    }
  });

  describe('a container target', () => {
    const containerDump = () =>
      postgresDump.expand({ target: { container: 'supabase-db', user: 'postgres' }, database: 'app', to: to() }, context);
    let shimEnv: Record<string, string>;
    let log: string;

    beforeAll(async () => {
      await pg.start();
      log = join(root, 'docker.log');
      shimEnv = { PATH: `${await writeDockerExec(join(root, 'docker-bin'), pg)}:${systemPath()}`, DOCKER_LOG: log };
    });

    it('asks pg_isready over TCP inside the running container before the query', async () => {
      await writeFile(log, '');
      const { run } = await runStep(containerDump(), root, env(shimEnv));
      expectOk(run, 'dump');
      const calls = (await readFile(log, 'utf8')).trim().split('\n');
      expect(calls.slice(0, 3)).toEqual([
        'container inspect -f {{.State.Running}} supabase-db',
        'exec -i supabase-db pg_isready -U postgres -h 127.0.0.1 -d app',
        'exec -i supabase-db psql -U postgres -X -v ON_ERROR_STOP=1 -w -At -d app -c SELECT 1',
      ]);
    });

    it('fails at once when the container does not exist or Docker cannot be reached', async () => {
      for (const [state, message] of [
        ['missing', 'postgres.dump: container supabase-db does not exist: Error: No such container: supabase-db'],
        ['unreachable', 'postgres.dump: cannot inspect container supabase-db (is Docker reachable?): Cannot connect to the Docker daemon'],
      ] as const) {
        const started = Date.now();
        const result = await runShell(containerDump().run, env({ ...shimEnv, DOCKER_STATE: state }));
        expect(result.code).toBe(1);
        expect(result.stderr).toContain(message);
        expect(Date.now() - started).toBeLessThan(5_000);
      }
    });

    it('waits for a container that is not running, within the bound', async () => {
      const result = await runShell(containerDump().run, env({ ...shimEnv, DOCKER_STATE: 'false', RUNBOOK_PG_READY_TIMEOUT: '2' }));
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(
        'postgres.dump: container supabase-db did not accept a query on app within 2s (RUNBOOK_PG_READY_TIMEOUT); last error: container supabase-db is not running',
      );
    });
  });
});
