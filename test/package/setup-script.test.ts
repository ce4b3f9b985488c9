// scripts/setup.sh on a bare Debian, checked with stand-ins: PATH holds only stubs (bash's builtins
// do the rest), `apt-get` and `npm` record their arguments, `id` says who runs it. With every
// command missing it must install exactly the packages of an independent table, each once; with
// one command missing, exactly that command's package — so a command mapped to another's package
// (the old parallel arrays, 10 packages for 11 commands) fails here.
import { execFile } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repository } from '../helpers/cli.js';

/** What the tests, the demo and the built-in actions call, and the Debian 12 package that brings it. */
const expectedPackages: Record<string, string> = {
  initdb: 'postgresql-15',
  rclone: 'rclone',
  named: 'bind9',
  'tsig-keygen': 'bind9',
  nsupdate: 'bind9-dnsutils',
  dig: 'bind9-dnsutils',
  shellcheck: 'shellcheck',
  zstd: 'zstd',
  hyperfine: 'hyperfine',
  git: 'git',
  jq: 'jq',
  curl: 'curl',
  age: 'age',
  'age-keygen': 'age',
  'ssh-keygen': 'openssh-client',
  script: 'bsdutils',
  dockerd: 'docker.io',
  docker: 'docker.io',
  'docker-compose': 'docker-compose',
  debootstrap: 'debootstrap',
};

const setupScript = readFileSync(join(repository, 'scripts', 'setup.sh'), 'utf8');

/** setup.sh's own "command package" lines. */
const scriptTable = (): [string, string][] => {
  const block = /^requirements='([^']*)'/m.exec(setupScript);
  expect(block, "setup.sh keeps its list in requirements='…'").not.toBeNull();
  return block![1]!
    .trim()
    .split('\n')
    .map((line) => line.trim().split(/\s+/) as [string, string]);
};

const temporary = mkdtempSync(join(tmpdir(), 'runbook-setup-'));
afterAll(() => rmSync(temporary, { recursive: true, force: true }));

const stubText: Record<string, string> = {
  id: '#!/bin/bash\n[[ $1 == -u ]] && echo "$STUB_UID"\n',
  dirname: '#!/bin/bash\np=$1; [[ $p == */* ]] && echo "${p%/*}" || echo .\n',
  'apt-get': '#!/bin/bash\necho "$*" >> "$STUB_LOG/apt-get"\n',
  npm: '#!/bin/bash\necho "$*" >> "$STUB_LOG/npm"\n',
  readlink: '#!/bin/bash\necho elsewhere\n',
};

const writeStub = (folder: string, name: string, text = '#!/bin/bash\nexit 0\n') => {
  writeFileSync(join(folder, name), text);
  chmodSync(join(folder, name), 0o755);
};

interface SetupRun {
  code: number | null;
  stderr: string;
  aptGet: string[];
  npm: string[];
}

let runs = 0;

/**
 * Runs a copy of setup.sh in a fresh checkout-shaped folder, PATH = stubs of `present` commands
 * (initdb in its own PostgreSQL folder), as `uid`; node_modules is up to date unless `freshClone`.
 */
const runSetup = ({
  present,
  uid = 0,
  freshClone = false,
  linkedModules = false,
}: {
  present: string[];
  uid?: number;
  freshClone?: boolean;
  linkedModules?: boolean;
}) => {
  const root = join(temporary, `run-${++runs}`);
  const [checkout, stubs, pgBin, log, cache] = ['checkout', 'stubs', 'pg-bin', 'log', 'cache'].map((name) => join(root, name));
  for (const folder of [join(checkout!, 'scripts'), stubs!, pgBin!, log!, join(cache!, 'node-18', 'bin')])
    mkdirSync(folder, { recursive: true });
  copyFileSync(join(repository, 'scripts', 'setup.sh'), join(checkout!, 'scripts', 'setup.sh'));
  writeFileSync(join(checkout!, 'package-lock.json'), '{}\n');
  if (linkedModules) {
    mkdirSync(join(root, 'shared-modules'));
    symlinkSync(join(root, 'shared-modules'), join(checkout!, 'node_modules'));
  } else if (!freshClone) {
    mkdirSync(join(checkout!, 'node_modules'));
    writeFileSync(join(checkout!, 'node_modules', '.package-lock.json'), '{}\n');
    utimesSync(join(checkout!, 'package-lock.json'), new Date(0), new Date(0));
  }
  writeStub(join(cache!, 'node-18', 'bin'), 'node');
  for (const [name, text] of Object.entries(stubText)) writeStub(stubs!, name, text);
  for (const command of present) writeStub(command === 'initdb' ? pgBin! : stubs!, command);
  const env = { PATH: stubs!, STUB_UID: String(uid), STUB_LOG: log!, RUNBOOK_STACK_PG_BIN: pgBin!, RUNBOOK_TEST_CACHE: cache!, HOME: root };
  return new Promise<SetupRun>((resolve) => {
    execFile('/bin/bash', [join(checkout!, 'scripts', 'setup.sh')], { env, cwd: root }, (error, _stdout, stderr) => {
      const lines = (name: string) => (existsSync(join(log!, name)) ? readFileSync(join(log!, name), 'utf8').trim().split('\n') : []);
      resolve({ code: error ? (error.code as number) : 0, stderr, aptGet: lines('apt-get'), npm: lines('npm') });
    });
  });
};

/** The packages of the one `apt-get install` call (its flags left out); fails unless there is exactly one. */
const installedPackages = (aptGet: string[]): string[] => {
  const installs = aptGet.filter((line) => line.split(' ').includes('install'));
  expect(installs).toHaveLength(1);
  return installs[0]!.split(' ').filter((word) => word !== 'install' && !word.startsWith('-'));
};

const allCommands = Object.keys(expectedPackages);
const uniquePackages = [...new Set(Object.values(expectedPackages))].sort();

describe('scripts/setup.sh', () => {
  it('lists exactly the commands of the expected table, each mapped to its package', () => {
    expect(Object.fromEntries(scriptTable().map(([command, pkg]) => [command.split('/').pop(), pkg]))).toEqual(expectedPackages);
    expect(scriptTable()).toHaveLength(allCommands.length);
  });

  it('with nothing present, as root: installs every package exactly once, then the node modules', async () => {
    const outcome = await runSetup({ present: [], freshClone: true });
    expect(outcome.stderr).not.toMatch(/unbound variable|command not found/);
    expect(outcome.code).toBe(0);
    const packages = installedPackages(outcome.aptGet);
    expect([...packages].sort()).toEqual(uniquePackages);
    expect(outcome.aptGet[0]).toMatch(/^update\b/);
    expect(outcome.npm).toEqual(['ci --no-audit --no-fund', 'run build --silent']);
  });

  it.each(allCommands)('with only %s missing: installs exactly its package', async (missing) => {
    const outcome = await runSetup({ present: allCommands.filter((command) => command !== missing) });
    expect(outcome.stderr).not.toMatch(/unbound variable|command not found/);
    expect(outcome.code).toBe(0);
    expect(installedPackages(outcome.aptGet)).toEqual([expectedPackages[missing]]);
    expect(outcome.npm).toEqual([]);
  });

  it('with everything present: runs no apt-get and no npm', async () => {
    const outcome = await runSetup({ present: allCommands });
    expect(outcome).toMatchObject({ code: 0, aptGet: [], npm: [] });
  });

  it('with node_modules a symlink (a worktree sharing a checkout): no npm ci, which would empty it through the link', async () => {
    const outcome = await runSetup({ present: allCommands, linkedModules: true });
    expect(outcome).toMatchObject({ code: 0, aptGet: [], npm: [] });
    expect(outcome.stderr).toContain('not reinstalling it from here');
  });

  it('not as root: prints the sudo apt-get line with the missing packages, exits 1, installs nothing', async () => {
    const outcome = await runSetup({ present: allCommands.filter((command) => !['dig', 'ssh-keygen'].includes(command)), uid: 1000 });
    expect(outcome.code).toBe(1);
    expect(outcome.aptGet).toEqual([]);
    expect(outcome.stderr).toContain('  sudo apt-get update && sudo apt-get install -y bind9-dnsutils openssh-client\n');
  });
});
