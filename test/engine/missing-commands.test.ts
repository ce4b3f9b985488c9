// A missing command is named with its Debian 12 package and one line that installs them all: the
// message itself, and what `exec` prints (exit 2, nothing run) on a PATH without the commands.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { debianPackageOf } from '../../src/engine/debian-packages.js';
import { describeMissingCommands, missingCommands } from '../../src/engine/missing-commands.js';
import { cliEnv, expectBuilt, runCli } from '../helpers/cli.js';
import { createGitRepo, type GitRepo } from '../helpers/git-repo.js';
import { createPathWithout, type SandboxPath } from '../helpers/sandbox-path.js';

describe('debianPackageOf', () => {
  it.each([
    ['psql', 'postgresql-client'],
    ['pg_dump', 'postgresql-client'],
    ['pg_restore', 'postgresql-client'],
    ['pg_isready', 'postgresql-client'],
    ['docker', 'docker.io'],
    ['docker-compose', 'docker-compose'],
    ['nsupdate', 'bind9-dnsutils'],
    ['dig', 'bind9-dnsutils'],
    ['sha256sum', 'coreutils'],
    ['df', 'coreutils'],
    ['flock', 'util-linux'],
    ['runuser', 'util-linux'],
    ['getent', 'libc-bin'],
    ['ssh', 'openssh-client'],
    ['age-keygen', 'age'],
    ['awk', 'mawk'],
    ['tar', 'tar'],
  ])('%s comes with %s', (command, name) => expect(debianPackageOf(command)).toBe(name));

  it('knows no package for an unknown command, nor for names of Object.prototype', () => {
    for (const command of ['rbtool', 'constructor', 'toString', '__proto__']) expect(debianPackageOf(command)).toBeUndefined();
  });
});

describe('describeMissingCommands', () => {
  it('names each command with its package and installs the packages sorted, each once', () => {
    expect(describeMissingCommands(['psql', 'docker', 'pg_isready'])).toBe(
      'required command(s) not found on PATH: psql (package postgresql-client), docker (package docker.io), pg_isready (package postgresql-client)\n' +
        'install them with: apt-get install -y docker.io postgresql-client',
    );
  });

  it('lists a command without a known package as such, and leaves it out of the install line', () => {
    expect(describeMissingCommands(['rbtool', 'zstd'])).toBe(
      'required command(s) not found on PATH: rbtool (no Debian package known), zstd (package zstd)\ninstall them with: apt-get install -y zstd',
    );
  });

  it('has no install line when no package is known', () => {
    expect(describeMissingCommands(['rbtool', 'rbtool2'])).toBe(
      'required command(s) not found on PATH: rbtool (no Debian package known), rbtool2 (no Debian package known)',
    );
  });
});

describe('missingCommands', () => {
  let sandbox: SandboxPath;
  beforeAll(() => (sandbox = createPathWithout(['docker', 'psql'])));
  afterAll(() => sandbox?.remove());

  it('finds executables on the PATH given, and reports each missing command once', () => {
    expect(missingCommands(['bash', 'docker', 'psql', 'docker', 'jq'], sandbox.dir)).toEqual(['docker', 'psql']);
  });

  it('does not take a folder or a file that is not executable for a command', () => {
    const repo = createGitRepo({ 'bin/notexec': 'echo\n' });
    mkdirSync(join(repo.dir, 'bin', 'folder'));
    try {
      expect(missingCommands(['notexec', 'folder'], join(repo.dir, 'bin'))).toEqual(['notexec', 'folder']);
    } finally {
      repo.remove();
    }
  });
});

describe('exec on a host without the commands', () => {
  let sandbox: SandboxPath;
  let repo: GitRepo;
  beforeAll(() => {
    expectBuilt('cli/exec.js');
    sandbox = createPathWithout(['docker', 'psql', 'pg_isready', 'zstd']);
  });
  afterAll(() => sandbox?.remove());
  afterEach(() => repo?.remove());

  const exec = (runbook: string) => {
    repo = createGitRepo({ 'rb.yaml': runbook });
    mkdirSync(join(repo.dir, 'work'));
    return runCli(['exec', 'rb.yaml', '--state-dir', join(repo.dir, '.state'), '--output', 'plain'], {
      cwd: repo.dir,
      env: cliEnv({ PATH: sandbox.dir, WORK: join(repo.dir, 'work') }),
    });
  };
  const step = '  - id: a\n    run: touch "$WORK/a"\n    verify: test -e "$WORK/a"\n';

  it('exits 2, naming packages and the install line, and runs nothing', async () => {
    const run = await exec(`runbook: 1\nname: needs\nrequires: [psql, docker, pg_isready, rbtool, jq]\nsteps:\n${step}`);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(
      'runbook: required command(s) not found on PATH: psql (package postgresql-client), docker (package docker.io), pg_isready (package postgresql-client), rbtool (no Debian package known)\n' +
        'install them with: apt-get install -y docker.io postgresql-client\n',
    );
    expect(existsSync(join(repo.dir, 'work', 'a'))).toBe(false);
    expect(existsSync(join(repo.dir, '.state', 'runs'))).toBe(false);
  });

  it("names the commands a built-in action calls (a container target's docker, the compressor)", async () => {
    const run = await exec(
      `runbook: 1\nname: dump\nsteps:\n${step}  - id: dump\n    uses: postgres.dump\n    with: { target: { container: db }, database: app, to: "backup:x" }\n`,
    );
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^runbook: required command\(s\) not found on PATH: docker \(package docker\.io\), zstd \(package zstd\)\n/);
    expect(run.stderr).toContain('install them with: apt-get install -y docker.io zstd\n');
    expect(existsSync(join(repo.dir, 'work', 'a'))).toBe(false);
  });
});
