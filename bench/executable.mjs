// The single executable (docs/performance.md): its size, and its cold start against the npm
// package's `node bin/runbook.js` and `npx runbook` on the same command, `lint` of one runbook,
// with and without shellcheck (which is a process of its own, the same in all three).
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { time } from './lint.mjs';

const repo = fileURLToPath(new URL('..', import.meta.url));
const executable = join(repo, 'build', 'runbook-linux-x64');
const file = 'runbooks/backup-files.yaml';

export const run = async () => {
  const ms = (s) => Math.round(s * 1000);
  const rows = [{ what: 'size of build/runbook-linux-x64', value: +(statSync(executable).size / 2 ** 20).toFixed(1), unit: 'MiB' }];
  for (const extra of [['--no-shellcheck'], []]) {
    const label = `lint ${file}${extra.length ? ' --no-shellcheck' : ''}`;
    const node = time([process.execPath, join(repo, 'bin/runbook.js'), 'lint', file, ...extra], { runs: 20, warmup: 3 });
    const single = time([executable, 'lint', file, ...extra], { runs: 20, warmup: 3 });
    const npx = time(['npx', 'runbook', 'lint', file, ...extra], { runs: 10, warmup: 2 });
    rows.push(
      { what: `node bin/runbook.js ${label} (baseline)`, value: ms(node), unit: 'ms' },
      { what: `runbook-linux-x64 ${label}`, value: ms(single), unit: 'ms', baseline: ms(node), ratio: +(single / node).toFixed(2) },
      { what: `npx runbook ${label}`, value: ms(npx), unit: 'ms', baseline: ms(node), ratio: +(npx / node).toFixed(2) },
    );
  }
  return { name: 'executable', rows };
};
