// The single executable where there is no Node at all: a chroot into the Debian 12 root filesystem
// of the Docker test stack's image (tools/stack/docker/postgres-image.sh: no node, no node_modules),
// with only the executable, rclone and jq (and their libraries) copied in, entered in a mount
// namespace of its own with /proc and /dev. There it lints, plans, runs a runbook with a
// verification and a confirmation under --yes, is interrupted and resumed, shows the task list on
// a terminal, backs up and restores files with the built-in actions (whose restore calls
// `runbook backups --pick` through the steps' `runbook`), and lists and verifies the backups.
// The test builds the executable itself (scripts/build-binary.mjs, from dist/). Needs root (chroot,
// mount) and util-linux's unshare and script.
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureImageRootfs } from '../../tools/stack/docker/engine.js';
import { findSystemBinary } from '../../tools/stack/run.js';
import { expectBuilt, repository } from '../helpers/cli.js';

const root = mkdtempSync(join(tmpdir(), 'runbook-sea-root-'));
const built = mkdtempSync(join(tmpdir(), 'runbook-sea-build-'));
const executable = join(built, 'runbook-linux-x64');

interface Outcome {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The command line that runs ARGS inside the chroot, with a clean environment plus ENV. */
const chrootCommand = (args: readonly string[], env: Record<string, string> = {}): string[] => [
  findSystemBinary('unshare', 'util-linux'),
  '--mount',
  '--propagation',
  'private',
  'sh',
  '-c',
  // Every exec keeps the PID, so a signal sent to the child reaches runbook itself.
  'root=$1; shift; mount -t proc proc "$root/proc" && mount --rbind /dev "$root/dev" && exec chroot "$root" "$@"',
  'sh',
  root,
  '/usr/bin/env',
  '-i',
  'PATH=/usr/local/bin:/usr/bin:/bin',
  'HOME=/root',
  'LANG=C.UTF-8',
  'TERM=xterm-256color',
  ...Object.entries(env).map(([key, value]) => `${key}=${value}`),
  ...args,
];

const inChroot = (args: readonly string[], env: Record<string, string> = {}): Outcome => {
  const [command, ...rest] = chrootCommand(args, env);
  const run = spawnSync(command!, rest, { encoding: 'utf8', timeout: 60_000 });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
};

const runbook = (...args: string[]): Outcome => inChroot(['runbook', ...args], { RUNBOOK_STATE_DIR: '/work/state' });

/** Copies a host binary and the libraries ldd names into the chroot, at the same paths. */
const copyCommand = (path: string) => {
  const libraries = spawnSync('ldd', [path], { encoding: 'utf8' })
    .stdout.split('\n')
    .flatMap((line) => /(\/\S+) \(0x/.exec(line)?.[1] ?? []);
  for (const file of [path, ...libraries]) {
    const target = join(root, file);
    if (existsSync(target)) continue;
    mkdirSync(dirname(target), { recursive: true });
    copyFileSync(file, target);
  }
};

const work = (name: string, text: string) => writeFileSync(join(root, 'work', name), text);

const small = `runbook: 1
name: small
kind: recovery
rto: 10m
steps:
  - id: first
    timeout: 1m
    run: |
      echo hello > /work/first.txt
      runbook --help | head -n 1 > /work/self.txt
    verify: grep -q hello /work/first.txt
  - id: second
    needs: [first]
    timeout: 1m
    confirm: Start the slow part?
    run: |
      echo started >> /work/second.log
      sleep 3
      touch /work/second.done
    verify: test -e /work/second.done
`;

const backup = `runbook: 1
name: files-round-trip
kind: recovery
rto: 10m
steps:
  - id: back-up
    timeout: 1m
    uses: files.backup
    with: { source: /work/data, to: /work/bucket/files }
  - id: restore
    needs: [back-up]
    timeout: 1m
    uses: files.restore
    with: { from: /work/bucket/files, to: /work/restored, allow_unsigned: true }
`;

describe('the single executable on a Debian root filesystem without Node', () => {
  beforeAll(async () => {
    expect(process.getuid?.(), 'chroot and mount need root').toBe(0);
    expectBuilt('cli/binary.js');
    // Built here, from dist/ as npm test built it, into a folder of the test's own.
    const build = spawnSync(process.execPath, [join(repository, 'scripts', 'build-binary.mjs'), built], { encoding: 'utf8' });
    expect(build.status, build.stderr).toBe(0);
    const sum = spawnSync('sha256sum', ['--check', '--strict', 'runbook-linux-x64.sha256'], { cwd: built, encoding: 'utf8' });
    expect(sum.stdout).toBe('runbook-linux-x64: OK\n');
    const tarball = await ensureImageRootfs();
    const unpacked = spawnSync('tar', ['-xf', tarball, '-C', root], { encoding: 'utf8' });
    expect(unpacked.status, unpacked.stderr).toBe(0);
    copyFileSync(executable, join(root, 'usr/local/bin/runbook'));
    spawnSync('chmod', ['755', join(root, 'usr/local/bin/runbook')]);
    for (const [command, debianPackage] of [
      ['rclone', 'rclone'],
      ['jq', 'jq'],
    ])
      copyCommand(findSystemBinary(command!, debianPackage));
    mkdirSync(join(root, 'work', 'data', 'deep'), { recursive: true });
    work('small.yaml', small);
    work('files.yaml', backup);
    work('broken.yaml', small.replace('timeout: 1m\n    confirm', 'timeout: soon\n    confirm'));
    work('data/a.txt', 'alpha\n');
    work('data/deep/b.bin', 'b'.repeat(70_000));
  }, 600_000);

  afterAll(() => {
    rmSync(root, { recursive: true, force: true });
    rmSync(built, { recursive: true, force: true });
  });

  it('has no node and no node_modules to lean on', () => {
    expect(inChroot(['sh', '-c', 'command -v node nodejs']).code).not.toBe(0);
    const found = inChroot(['find', '/', '-xdev', '(', '-name', 'node_modules', '-o', '-name', 'node', ')', '-print']);
    expect(found.stdout.trim()).toBe('');
  });

  it('lints with the embedded schemas: a clean runbook passes, a wrong field is placed at file:line:col', () => {
    const clean = runbook('lint', '/work/small.yaml');
    expect(clean.stdout + clean.stderr).toContain('0 errors, 0 warnings in 1 file');
    expect(clean.code).toBe(0);
    const broken = runbook('lint', '/work/broken.yaml');
    expect(broken.code).toBe(2);
    expect(broken.stdout).toMatch(/broken\.yaml:14:14: steps\[1\]\.timeout must be a duration/);
    expect(broken.stderr).not.toMatch(/\n\s+at /);
  });

  it("plans with the embedded shell library: an action's functions are printed", () => {
    const plan = runbook('plan', '/work/files.yaml');
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stdout).toContain('rb_backup_');
    expect(runbook('schema').stdout).toContain('"files.backup"');
    const docs = runbook('docs', '/work/files.yaml');
    expect(docs.code, docs.stderr).toBe(0);
    expect(docs.stdout).toMatch(/^rb_backup_pick\(\) \{$/m);
  });

  it('runs a runbook, is interrupted in its confirmed step, and resumes it to the end', async () => {
    const [command, ...args] = chrootCommand(['runbook', 'exec', '/work/small.yaml', '--yes', '--allow-dirty', '--output', 'plain'], {
      RUNBOOK_STATE_DIR: '/work/state',
    });
    const child = spawn(command!, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const deadline = Date.now() + 30_000;
    while (!existsSync(join(root, 'work', 'second.log')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    child.kill('SIGINT');
    expect(await exited, output).toBe(130);
    expect(output).toContain('Start the slow part? → assumed-yes');
    expect(output).toContain('--resume continues');
    expect(existsSync(join(root, 'work', 'second.done'))).toBe(false);
    // The steps' `runbook` is the executable itself.
    expect(readFileSync(join(root, 'work', 'self.txt'), 'utf8')).toMatch(/^Usage: runbook /);

    const resumed = runbook('exec', '/work/small.yaml', '--yes', '--allow-dirty', '--resume', '--output', 'plain');
    expect(resumed.code, resumed.stdout + resumed.stderr).toBe(0);
    expect(resumed.stderr).toContain('[first] skipped: done earlier in this run');
    expect(resumed.stderr).toMatch(/\[second\] done: exit 0, verified/);
    expect(readFileSync(join(root, 'work', 'second.log'), 'utf8')).toBe('started\nstarted\n');
    const status = runbook('status', '--format', 'json');
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toContain('"small"');
  }, 90_000);

  it('shows the task list on a terminal', () => {
    rmSync(join(root, 'work', 'state'), { recursive: true, force: true });
    rmSync(join(root, 'work', 'second.done'));
    const line = chrootCommand(['runbook', 'exec', '/work/small.yaml', '--yes', '--allow-dirty'], { RUNBOOK_STATE_DIR: '/work/state' })
      .map((word) => `'${word.replace(/'/g, `'\\''`)}'`)
      .join(' ');
    // script's terminal has no size of its own; the task list needs one at least 40 columns wide.
    const run = spawnSync(findSystemBinary('script', 'bsdutils'), ['-qec', `stty cols 100 rows 30; exec ${line}`, '/dev/null'], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(run.status, run.stdout).toBe(0);
    expect(run.stdout).toContain('✔');
    expect(run.stdout).toMatch(/second/);
  }, 60_000);

  it('backs up and restores files with the built-in actions, then lists and verifies the backups', () => {
    const run = runbook('exec', '/work/files.yaml', '--yes', '--allow-dirty', '--output', 'plain');
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(readFileSync(join(root, 'work', 'restored', 'deep', 'b.bin'), 'utf8')).toBe('b'.repeat(70_000));
    const ids = readdirSync(join(root, 'work', 'bucket', 'files'));
    expect(ids).toHaveLength(1);
    const listed = runbook('backups', '/work/bucket/files');
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toContain(ids[0]);
    const verified = runbook('backups', '/work/bucket/files', '--verify', '--allow-unsigned');
    expect(verified.code, verified.stdout + verified.stderr).toBe(0);
    const picked = runbook('backups', '/work/bucket/files', '--pick', 'latest', '--allow-unsigned');
    expect(picked.stdout.trim()).toBe(ids[0]);
  }, 90_000);
});
