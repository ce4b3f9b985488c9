// compose.up with whichever Compose the machine has: v2 (`docker compose`) when the plugin answers,
// else v1 (`docker-compose`, Debian 12's), and clear failures when neither is there or the daemon is
// down. The `docker` and `docker-compose` here are stand-ins on PATH that log their arguments and
// keep which services run in a file: the real engine runs compose.up in test/docker.
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { composeUp } from '../../src/actions/compose.up/index.js';
import { runStep } from '../backup/shell.js';

const root = mkdtempSync(join(tmpdir(), 'runbook-compose-up-'));
const context = { runbook: 'test', stepId: 'up', secrets: [] };

/** A stand-in Compose: `up -d [S…]` marks services running (all of `config --services` when none). */
const compose = `
echo "$NAME $*" >> "$STATE/calls"
while [ "$1" = -f ]; do shift 2; done
case "$1" in
  version) echo "2.0.0" ;;
  config) printf '%s\\n' db app worker ;;
  up) shift; [ "$1" = -d ] && shift; if [ $# -eq 0 ]; then set -- db app worker; fi
      for s; do [ "$s" = broken ] || echo "$s" >> "$STATE/running"; done ;;
  ps) sort -u "$STATE/running" 2>/dev/null || true ;;
esac`;

const machine = (name: string, { v2, v1, daemon }: { v2: boolean; v1: boolean; daemon: boolean }) => {
  const dir = join(root, name);
  const bin = join(dir, 'bin');
  rmSync(dir, { recursive: true, force: true });
  for (const [file, text] of Object.entries({
    docker: [
      '#!/bin/bash',
      daemon
        ? '[ "$1" = version ] && exit 0'
        : '[ "$1" = version ] && { echo "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?" >&2; exit 1; }',
      v2
        ? `if [ "$1" = compose ]; then shift; NAME='docker compose'; ${compose}\nfi`
        : 'echo "docker: unknown command: docker $1" >&2; exit 1',
    ].join('\n'),
    ...(v1 ? { 'docker-compose': `#!/bin/bash\nNAME=docker-compose${compose}` } : {}),
  })) {
    mkdirSync(bin, { recursive: true });
    writeFileSync(join(bin, file), text);
    chmodSync(join(bin, file), 0o755);
  }
  writeFileSync(join(dir, 'compose.yaml'), 'services: {}\n');
  // Only the stand-ins and the tools the shell needs: this machine's own docker-compose stays out of reach.
  const tools = join(dir, 'tools');
  mkdirSync(tools);
  for (const tool of ['bash', 'cat', 'comm', 'mkdir', 'mktemp', 'paste', 'rm', 'sed', 'sort', 'tail', 'tr', 'chmod', 'env', 'dirname'])
    symlinkSync(`/usr/bin/${tool}`, join(tools, tool));
  return { dir, env: { PATH: `${bin}:${tools}`, STATE: dir }, file: join(dir, 'compose.yaml') };
};

describe('compose.up', () => {
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it.each([
    ['v2 only', { v2: true, v1: false }, 'docker compose'],
    ['v1 only (Debian 12)', { v2: false, v1: true }, 'docker-compose'],
    ['both: v2 is preferred', { v2: true, v1: true }, 'docker compose'],
  ])('%s: starts the services with %s and verifies they run', async (name, versions, used) => {
    const { dir, env, file } = machine(name.replace(/\W+/g, '-'), { ...versions, daemon: true });
    const step = await runStep(composeUp.expand({ file, services: ['db', 'app'] }, context), dir, env);
    expect(step.run.code, step.run.stderr).toBe(0);
    expect(step.verify?.code, step.verify?.stderr).toBe(0);
    expect(step.verify?.stdout).toContain('running: db app');
    const calls = readFileSync(join(dir, 'calls'), 'utf8');
    expect(calls).toContain(`${used} -f ${file} up -d db app`);
    expect(calls.split('\n').filter((line) => line && !line.startsWith(used))).toEqual([]);
  });

  it('with no services named, starts and verifies every service of the file', async () => {
    const { dir, env, file } = machine('all', { v2: false, v1: true, daemon: true });
    const step = await runStep(composeUp.expand({ file }, context), dir, env);
    expect(step.verify?.code, step.verify?.stderr).toBe(0);
    expect(step.verify?.stdout).toContain('running: db app worker');
  });

  it('fails the verification naming a service that does not run', async () => {
    const { dir, env, file } = machine('broken', { v2: true, v1: false, daemon: true });
    const step = await runStep(composeUp.expand({ file, services: ['db', 'broken'] }, context), dir, env);
    expect(step.verify?.code).not.toBe(0);
    expect(step.verify?.stderr).toContain('not running: broken');
  });

  it('without any Compose, names the package to install', async () => {
    const { dir, env, file } = machine('none', { v2: false, v1: false, daemon: true });
    const step = await runStep(composeUp.expand({ file }, context), dir, env);
    expect(step.run.code).not.toBe(0);
    expect(step.run.stderr).toContain(
      'neither Compose v2 (docker compose) nor v1 (docker-compose) is installed: apt-get install -y docker-compose',
    );
  });

  it('with the daemon down, says so instead of a template error', async () => {
    const { dir, env, file } = machine('down', { v2: true, v1: false, daemon: false });
    const step = await runStep(composeUp.expand({ file }, context), dir, env);
    expect(step.run.code).not.toBe(0);
    expect(step.run.stderr).toMatch(
      /the Docker daemon does not answer \(start it: systemctl start docker\): Cannot connect to the Docker daemon/,
    );
    expect(step.run.stderr).not.toMatch(/template|nil pointer/);
  });
});
