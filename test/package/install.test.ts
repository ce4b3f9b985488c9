// The packed package as a user installs it: `npm install -g` of the tarball into a fresh prefix,
// install scripts allowed, with no registry reachable (the registry is a closed loopback port and
// npm is offline), then `runbook lint` and `runbook plan` from a folder outside the repository.
// A dependency that needs a download, a second rclone, or an install script fails it.
import { execFile } from 'node:child_process';
import { cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemPath } from '../../tools/stack/run.js';
import { expectBuilt, repository } from '../helpers/cli.js';

const run = promisify(execFile);

interface Manifest {
  name?: string;
  scripts?: Record<string, string>;
}

const temporary = mkdtempSync(join(tmpdir(), 'runbook-install-'));
const prefix = join(temporary, 'prefix');
const outside = join(temporary, 'elsewhere');
const installed = join(prefix, 'lib', 'node_modules', 'runbook');

/** npm with scripts allowed and nothing but what it already holds: the repository's `.npmrc` is not read from here. */
const npmEnv = (): NodeJS.ProcessEnv => ({
  ...process.env,
  PATH: systemPath(),
  npm_config_registry: 'http://127.0.0.1:9/',
  npm_config_offline: 'true',
  npm_config_ignore_scripts: 'false',
  npm_config_update_notifier: 'false',
  npm_config_logs_dir: join(temporary, 'npm-logs'),
});

/** `runbook ARGS` through the installed command, from a folder outside the repository. */
const runbook = async (args: string[]) => {
  const env = { ...process.env, PATH: `${join(prefix, 'bin')}:${systemPath()}`, NO_COLOR: '1' };
  try {
    const { stdout, stderr } = await run(join(prefix, 'bin', 'runbook'), args, { cwd: outside, env });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
};

/** Every file or folder named `name` under `folder`. */
const findNamed = (folder: string, name: string): string[] =>
  readdirSync(folder, { recursive: true, encoding: 'utf8' }).filter((path) => path.split('/').pop() === name);

const installScripts = ['preinstall', 'install', 'postinstall'];

/** Each installed package that would run code at install time: an install script or a native build. */
const packagesWithInstallScripts = (root: string): string[] =>
  readdirSync(root, { recursive: true, encoding: 'utf8' })
    .filter((path) => path.endsWith('package.json') && !path.split('/').includes('test'))
    .flatMap((path) => {
      let manifest: Manifest;
      try {
        manifest = JSON.parse(readFileSync(join(root, path), 'utf8')) as Manifest;
      } catch {
        return [];
      }
      const folder = join(root, path, '..');
      const scripts = installScripts.filter((script) => manifest.scripts?.[script]);
      if (existsSync(join(folder, 'binding.gyp'))) scripts.push('binding.gyp');
      return scripts.length > 0 ? [`${path}: ${scripts.join(', ')}`] : [];
    });

describe('the packed package (its dependencies bundled), installed globally with install scripts allowed and no registry', () => {
  beforeAll(async () => {
    expectBuilt('cli/index.js');
    // Through a symlinked node_modules (a git worktree sharing another checkout's), npm pack bundles
    // only the direct dependencies, and the package fails to load; a clone has its own.
    expect(lstatSync(join(repository, 'node_modules')).isSymbolicLink(), 'pack from a checkout with its own node_modules (npm ci)').toBe(
      false,
    );
    // dist/ is built by `npm test` before the tests; packing with scripts would rebuild it (prepack)
    // under tests running in parallel, so the tarball takes the built one.
    const packed = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', temporary], {
      cwd: repository,
      env: { ...process.env, PATH: systemPath() },
    });
    const [{ filename }] = JSON.parse(packed.stdout) as [{ filename: string }];
    await run('npm', ['install', '--global', '--prefix', prefix, '--no-audit', '--no-fund', join(temporary, filename)], {
      cwd: temporary,
      env: npmEnv(),
    });
    mkdirSync(join(outside, 'environments'), { recursive: true });
    cpSync(join(repository, 'test/fixtures/lint/ok/backup-db.yaml'), join(outside, 'backup-db.yaml'));
    writeFileSync(join(outside, 'environments', 'elsewhere.yaml'), 'dest: /srv/backups/app\n');
  }, 120_000);

  afterAll(() => rmSync(temporary, { recursive: true, force: true }));

  it('lints a runbook from a folder outside the repository', async () => {
    const outcome = await runbook(['lint', 'backup-db.yaml', '--no-shellcheck']);
    expect(outcome.stderr).toBe('');
    expect(outcome.stdout).toMatch(/^0 errors, 0 warnings in 1 file/m);
    expect(outcome.code).toBe(0);
  });

  it('plans it with an environment beside it', async () => {
    const outcome = await runbook(['plan', 'backup-db.yaml', '--env', 'elsewhere']);
    expect(outcome.stderr).toBe('');
    expect(outcome.stdout).toContain('/srv/backups/app');
    expect(outcome.code).toBe(0);
  });

  it('names a mistake in one line with exit code 2, as from a clone', async () => {
    const outcome = await runbook(['plan', 'missing.yaml']);
    expect(outcome.stderr).toMatch(/^runbook: .*missing\.yaml/);
    expect(outcome.stderr).not.toMatch(/\n\s+at /);
    expect(outcome.code).toBe(2);
  });

  it('brings no rclone of its own', () => {
    expect(findNamed(prefix, 'rclone')).toEqual([]);
  });

  it('holds no package that runs code at install time', () => {
    expect(packagesWithInstallScripts(installed)).toEqual([]);
  });

  it('builds before packing (prepack), and runs nothing when installed or on every npx call (no prepare)', () => {
    const manifest = JSON.parse(readFileSync(join(repository, 'package.json'), 'utf8')) as Manifest;
    expect(manifest.scripts?.prepack).toBe('npm run build');
    expect(Object.keys(manifest.scripts ?? {}).filter((name) => [...installScripts, 'prepare'].includes(name))).toEqual([]);
  });
});
