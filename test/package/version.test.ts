// `runbook --version` names the package's version, read from package.json at build time (no
// import.meta.url: the single executable is a CJS bundle where it is empty).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectBuilt, repository, runCli } from '../helpers/cli.js';

const { version } = JSON.parse(readFileSync(join(repository, 'package.json'), 'utf8')) as { version: string };

describe('runbook --version', () => {
  it.each([['--version'], ['-V']])('%s prints "runbook VERSION" and exits 0', async (flag) => {
    expectBuilt('cli/index.js');
    const outcome = await runCli([flag]);
    expect(outcome).toMatchObject({ code: 0, stdout: `runbook ${version}\n`, stderr: '' });
  });

  it('is listed in --help', async () => {
    const outcome = await runCli(['--help']);
    expect(outcome.stdout).toMatch(/-V, --version\s+print the version/);
  });
});
