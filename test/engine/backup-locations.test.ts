// Preflight asks the backup store before anything runs: a `from` location must hold something, the
// remote of a `from` or `to` must be configured and reachable. Real runs of the built CLI against the
// project's local S3 server (s3rver) and a closed loopback port.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startS3, type S3Server } from '../../tools/stack/s3.js';
import { cliEnv, expectBuilt, runCli } from '../helpers/cli.js';
import { createGitRepo, type GitRepo } from '../helpers/git-repo.js';

let root: string;
let s3: S3Server;
let closedPort: number;

/** A loopback port nothing listens on: bound once by the OS, then released. */
const findClosedPort = () =>
  new Promise<number>((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });

beforeAll(async () => {
  expectBuilt('cli/exec.js');
  root = await mkdtemp(join(tmpdir(), 'runbook-locations-'));
  s3 = await startS3({ root });
  closedPort = await findClosedPort();
  // One backup-shaped object under files/present: that prefix holds something.
  execFileSync('rclone', ['rcat', s3.remotePath('files/present/2026-01-01T000000Z/manifest.json')], {
    input: '{}',
    env: cliEnv(s3.rcloneEnv()),
  });
}, 120_000);
afterAll(async () => {
  await s3?.stop();
  await rm(root, { recursive: true, force: true });
});

let repo: GitRepo;
afterEach(() => repo?.remove());

/** `mark` touches $WORK/mark, then the given steps; the run is refused before it if preflight refuses. */
const setup = (steps: string) => {
  repo = createGitRepo({
    'rb.yaml': `runbook: 1\nname: store\nsteps:\n  - id: mark\n    run: touch "$WORK/mark"\n    verify: test -e "$WORK/mark"\n${steps}`,
  });
  mkdirSync(join(repo.dir, 'work'));
  mkdirSync(join(repo.dir, 'source'));
  writeFileSync(join(repo.dir, 'source', 'a.txt'), 'a\n');
};
const restoreFrom = (from: string, id = 'restore') =>
  `  - id: ${id}\n    confirm: Restore?\n    uses: files.restore\n    with: { from: "${from}", to: "$WORK/restored", allow_unsigned: true }\n`.replace(
    '$WORK',
    '${{ env.WORK }}',
  );
const backupTo = (to: string) => `  - id: backup\n    uses: files.backup\n    with: { source: "\${{ env.SOURCE }}", to: "${to}" }\n`;

const exec = (args: string[] = [], env: Record<string, string> = s3.rcloneEnv()) =>
  runCli(['exec', 'rb.yaml', '--yes', '--state-dir', join(repo.dir, '.state'), '--output', 'plain', ...args], {
    cwd: repo.dir,
    env: cliEnv({ ...env, WORK: join(repo.dir, 'work'), SOURCE: join(repo.dir, 'source') }),
  });
const marked = () => existsSync(join(repo.dir, 'work', 'mark'));
const unreachable = () => ({ ...s3.rcloneEnv(), RCLONE_CONFIG_BACKUP_ENDPOINT: `http://127.0.0.1:${closedPort}` });

describe('a `from` location', () => {
  it('that holds backups lets the run start', async () => {
    setup(restoreFrom(s3.remotePath('files/present')));
    const run = await exec();
    expect(run.stderr).not.toContain('nothing was run');
    expect(marked()).toBe(true);
  });

  it('under an absent prefix refuses the run (exit 2), naming the step and the location', async () => {
    setup(restoreFrom(s3.remotePath('files/absent')));
    const run = await exec();
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(
      "runbook: step 'restore': the backup location backup:backups/files/absent holds nothing (is the bucket or prefix right?)\nnothing was run\n",
    );
    expect(marked()).toBe(false);
    expect(existsSync(join(repo.dir, '.state', 'runs'))).toBe(false);
  });

  it('in an absent bucket refuses the run', async () => {
    setup(restoreFrom('backup:nobucket/files/present'));
    const run = await exec();
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("step 'restore': the backup location backup:nobucket/files/present holds nothing");
    expect(marked()).toBe(false);
  });

  it('of a remote that is not configured refuses the run, saying how to configure it', async () => {
    setup(restoreFrom('offsite:backups/files/present'));
    const run = await exec();
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(
      "runbook: step 'restore': rclone remote 'offsite' is not configured: set RCLONE_CONFIG_OFFSITE_TYPE and its other RCLONE_CONFIG_OFFSITE_* variables, or add [offsite] to rclone.conf (`rclone config file` names it)\nnothing was run\n",
    );
    expect(marked()).toBe(false);
  });

  it("of an endpoint that does not answer refuses the run with rclone's error", async () => {
    setup(restoreFrom(s3.remotePath('files/present')));
    const run = await exec([], unreachable());
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(
      new RegExp(
        `^runbook: step 'restore': cannot reach backup:backups/files/present: .*127\\.0\\.0\\.1:${closedPort}.*connection refused\\nnothing was run\\n$`,
      ),
    );
    expect(marked()).toBe(false);
  });

  it('is listed with the environment the steps get: AWS_CA_BUNDLE, which rclone 1.60 fails on, included', async () => {
    setup(restoreFrom(s3.remotePath('files/present')));
    const env = { ...cliEnv({ ...s3.rcloneEnv(), WORK: join(repo.dir, 'work') }), AWS_CA_BUNDLE: '/etc/ssl/certs/ca-certificates.crt' };
    const run = await runCli(['exec', 'rb.yaml', '--yes', '--state-dir', join(repo.dir, '.state')], { cwd: repo.dir, env });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(
      /^runbook: step 'restore': cannot reach backup:backups\/files\/present: .*\(rclone 1\.60 fails so while AWS_CA_BUNDLE is set: unset it\)\n/,
    );
    expect(marked()).toBe(false);
  });

  it('read from a step output, or a local folder, is not asked about', async () => {
    setup(
      `  - id: where\n    run: echo at=${s3.remotePath('files/absent')} >> "$RUNBOOK_OUTPUT"\n    verify: test -d /\n` +
        restoreFrom('${{ steps.where.outputs.at }}', 'later') +
        restoreFrom(join(root, 'no-such-folder'), 'local'),
    );
    const run = await exec();
    expect(run.stderr).not.toContain('nothing was run');
    expect(marked()).toBe(true);
  });
});

describe('a `to` location', () => {
  it('under an absent prefix of an existing bucket lets the backup run: it creates the prefix', async () => {
    setup(backupTo(s3.remotePath('files/new-prefix')));
    const run = await exec();
    expect(run.code).toBe(0);
    expect(marked()).toBe(true);
    expect(execFileSync('rclone', ['lsf', s3.remotePath('files/new-prefix')], { env: cliEnv(s3.rcloneEnv()), encoding: 'utf8' })).toMatch(
      /^\d{4}-\d\d-\d\dT\d{6}Z\/$/m,
    );
  });

  it('in an absent bucket refuses the run', async () => {
    setup(backupTo('backup:nobucket/files/x'));
    const run = await exec();
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("step 'backup': backup:nobucket does not exist (is the bucket right?");
    expect(marked()).toBe(false);
  });

  it('of a remote that is not configured refuses the run', async () => {
    setup(backupTo('offsite:backups/files/x'));
    const run = await exec();
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("step 'backup': rclone remote 'offsite' is not configured: set RCLONE_CONFIG_OFFSITE_TYPE");
    expect(marked()).toBe(false);
  });

  it('of an endpoint that does not answer refuses the run, naming the bucket it listed', async () => {
    setup(backupTo(s3.remotePath('files/x')));
    const run = await exec([], unreachable());
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^runbook: step 'backup': cannot reach backup:backups: .*connection refused\n/);
    expect(marked()).toBe(false);
  });
});

describe('which steps, and when', () => {
  it('reports every problem at once, each location once with all the steps that use it', async () => {
    setup(
      restoreFrom(s3.remotePath('files/absent'), 'first') + restoreFrom(s3.remotePath('files/absent'), 'second') + backupTo('offsite:b/x'),
    );
    const run = await exec();
    expect(run.code).toBe(2);
    expect(run.stderr.split('\n')).toEqual([
      "runbook: step 'backup': rclone remote 'offsite' is not configured: set RCLONE_CONFIG_OFFSITE_TYPE and its other RCLONE_CONFIG_OFFSITE_* variables, or add [offsite] to rclone.conf (`rclone config file` names it)",
      "steps 'first', 'second': the backup location backup:backups/files/absent holds nothing (is the bucket or prefix right?)",
      'nothing was run',
      '',
    ]);
  });

  it('asks nothing for steps --only leaves out or whose when is false', async () => {
    setup(
      restoreFrom(s3.remotePath('files/absent')) +
        `  - id: skipped\n    when: \${{ env.WORK == 'elsewhere' }}\n    uses: files.backup\n    with: { source: /nonexistent, to: "offsite:b/x" }\n`,
    );
    const run = await exec(['--only', 'mark', 'skipped']);
    expect(run.code).toBe(0);
    expect(marked()).toBe(true);
  });

  it('asks for cleanup steps too, unless their when is false', async () => {
    setup(`cleanup:\n${restoreFrom(s3.remotePath('files/absent'), 'tidy')}`);
    const run = await exec();
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("step 'tidy': the backup location backup:backups/files/absent holds nothing");
    expect(marked()).toBe(false);
    repo.remove();
    setup(
      `cleanup:\n${restoreFrom(s3.remotePath('files/absent'), 'tidy').replace('    uses:', "    when: \${{ env.WORK == 'elsewhere' }}\n    uses:")}`,
    );
    expect((await exec()).code).toBe(0);
    expect(marked()).toBe(true);
  });

  it('asks nothing for plan and --dry-run', async () => {
    setup(restoreFrom(s3.remotePath('files/absent')));
    const dry = await exec(['--dry-run']);
    expect(dry.stderr).toBe('');
    expect(dry.code).toBe(0);
    const plan = await runCli(['plan', 'rb.yaml'], { cwd: repo.dir, env: cliEnv({ ...s3.rcloneEnv(), WORK: join(repo.dir, 'work') }) });
    expect(plan.code).toBe(0);
    expect(marked()).toBe(false);
  });

  it('gives rclone the environment the steps get: a remote configured in --env-file', async () => {
    setup(restoreFrom(s3.remotePath('files/absent')));
    const envFile = join(repo.dir, 'work', 'store.env');
    writeFileSync(
      envFile,
      Object.entries(s3.rcloneEnv())
        .map(([key, value]) => `${key}=${value}\n`)
        .join(''),
    );
    // Without the file the remote is unknown; with it, rclone reaches the store and finds nothing there.
    const without = await exec(['--only', 'restore'], {});
    expect(without.stderr).toContain("rclone remote 'backup' is not configured");
    const withFile = await exec(['--only', 'restore', '--env-file', envFile], {});
    expect(withFile.code).toBe(2);
    expect(withFile.stderr).toContain("step 'restore': the backup location backup:backups/files/absent holds nothing");
  });
});
