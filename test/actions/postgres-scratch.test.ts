import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExpandContext } from '../../src/actions/action.js';
import { scriptFor } from '../../src/actions/library.js';
import { postgresScratch } from '../../src/actions/postgres.scratch/index.js';
import { isAlive, runCommand, signalPid } from '../../tools/stack/run.js';
import { expectOk, requireBinaries, runShell, runStep } from '../backup/shell.js';

/** Alive and not a zombie (PID 1 here reaps orphans late). */
const isRunning = (pid: number) => isAlive(pid) && !/^\d+ \([^)]*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));

const context: ExpandContext = { runbook: 'test', stepId: 'scratch', secrets: [] };

describe('postgres.scratch', () => {
  let root: string;
  let pid = 0;

  beforeAll(async () => {
    requireBinaries('psql', 'runuser');
    if (!existsSync('/usr/lib/postgresql/15/bin/initdb'))
      throw new Error('/usr/lib/postgresql/15/bin/initdb not found: apt-get install postgresql-15');
    root = await mkdtemp(join(tmpdir(), 'pg-scratch-'));
    await runCommand('chmod', ['755', root]);
  });
  afterAll(async () => {
    if (pid && isAlive(pid)) signalPid(pid, 'SIGKILL');
    await rm(root, { recursive: true, force: true });
  });

  it('starts an initdb server on a free loopback port, then removes it', async () => {
    const dir = join(root, 'scratch');
    const started = await runStep(postgresScratch.expand({ engine: 'initdb', name: 'restore-test', dir }, context), root);
    expectOk(started.run, 'start');
    expectOk(started.verify, 'verify');
    expect(started.outputs).toMatchObject({ host: '127.0.0.1', user: 'postgres', dir });
    const port = started.outputs.port!;
    pid = Number((await readFile(join(dir, 'data', 'postmaster.pid'), 'utf8')).split('\n')[0]);
    const version = await runCommand('psql', [
      '-X',
      '-At',
      '-h',
      '127.0.0.1',
      '-p',
      port,
      '-U',
      'postgres',
      '-d',
      'postgres',
      '-c',
      'SHOW listen_addresses',
    ]);
    expect(version.stdout.trim()).toBe('127.0.0.1');

    const removed = await runStep(postgresScratch.expand({ engine: 'initdb', name: 'restore-test', dir, remove: true }, context), root);
    expectOk(removed.run, 'remove');
    expectOk(removed.verify, 'remove verify');
    expect(removed.outputs.pid).toBe(String(pid));
    expect(isRunning(pid)).toBe(false);
    expect(existsSync(dir)).toBe(false);
    // Cleanup runs whatever happened: removing twice is fine.
    expectOk(
      (await runStep(postgresScratch.expand({ engine: 'initdb', name: 'restore-test', dir, remove: true }, context), root)).run,
      'remove again',
    );
  });

  it('verify fails when the server does not answer', async () => {
    const dir = join(root, 'down');
    const step = postgresScratch.expand({ engine: 'initdb', name: 'down', dir }, context);
    expectOk(await runShell(step.run), 'start');
    pid = Number((await readFile(join(dir, 'data', 'postmaster.pid'), 'utf8')).split('\n')[0]);
    signalPid(pid, 'SIGKILL');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect((await runShell(step.verify.run)).code).not.toBe(0);
  });

  it('never deletes a folder it did not create', async () => {
    const dir = join(root, 'precious');
    await mkdir(dir);
    await writeFile(join(dir, 'keep.txt'), 'data');
    const start = await runShell(postgresScratch.expand({ engine: 'initdb', name: 'x', dir }, context).run);
    expect(start.code).toBe(1);
    expect(start.stderr).toContain(`postgres.scratch: ${dir} exists and is not a scratch server's folder`);
    const remove = await runShell(postgresScratch.expand({ engine: 'initdb', name: 'x', dir, remove: true }, context).run);
    expect(remove.code).toBe(1);
    expect(await readFile(join(dir, 'keep.txt'), 'utf8')).toBe('data');
  });

  it('expands the docker engine to docker run on the host network, loopback only, and docker rm', async () => {
    // The text a person would run (the inputs and the call, then the library's definitions), and that
    // bash parses it; test/docker/production-cycle.test.ts runs it on a real engine (restore-test).
    const start = postgresScratch.expand({ name: 'restore-test' }, context);
    expect(start.run).toBe(
      "ENGINE=docker\nREMOVE=false\nNAME=restore-test\nIMAGE=postgres:15-alpine\nWANTED_PORT=''\nrb_postgres_scratch_run",
    );
    expect(start.verify.run).toBe('ENGINE=docker\nREMOVE=false\nNAME=restore-test\nrb_postgres_scratch_verify');
    expect(scriptFor(start.run)).toContain(
      '--network host -e POSTGRES_HOST_AUTH_METHOD=trust "$IMAGE" postgres -c listen_addresses=127.0.0.1 -c "port=$port"',
    );
    expect(scriptFor(start.run)).toContain('docker run -d --pull missing --name "$NAME" --label dev.runbook.scratch=true');
    // Ready once the image's own pg_isready answers over TCP inside the container, and a query runs there.
    expect(scriptFor(start.run)).toContain('PG_CONTAINER="$NAME" PG_CONTAINER_PORT="$port" PG_USER=postgres rb_pg_wait_ready postgres');
    expect(scriptFor(start.run)).toContain('rb_pg pg_isready -h 127.0.0.1 -d "$1"');
    expect(scriptFor(start.verify.run)).toContain(
      `docker container inspect -f '{{index .Config.Labels "dev.runbook.scratch-port"}}' "$NAME"`,
    );
    expect(scriptFor(start.verify.run)).toContain(
      `docker exec -e "PGPORT=$port" "$NAME" psql -X -At -w -h 127.0.0.1 -U postgres -d postgres -c 'SELECT 1'`,
    );
    expect(scriptFor(start.verify.run)).toContain('(exec 3<> "/dev/tcp/127.0.0.1/$port")');
    const remove = postgresScratch.expand({ name: 'restore-test', remove: true }, context);
    expect(remove.run).toBe('ENGINE=docker\nREMOVE=true\nNAME=restore-test\nrb_postgres_scratch_run');
    expect(scriptFor(remove.run)).toContain('docker rm -f -v "$NAME"');
    expect(scriptFor(remove.verify.run)).toContain('if docker container inspect "$NAME"');
    for (const text of [start.run, start.verify.run, remove.run, remove.verify.run])
      expectOk(await runShell(`bash -n <<'EOF'\n${scriptFor(text)}\nEOF`), 'bash -n');
    // No host PostgreSQL client: the image's tools run through docker exec.
    expect(postgresScratch.requires({ name: 'x' })).toEqual(['docker']);
    expect(postgresScratch.requires({ name: 'x', remove: true })).toEqual(['docker']);
  });
});
