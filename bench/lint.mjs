// Lint throughput and cold start (docs/performance.md): 1,000 generated 20-step runbooks linted with and
// without shellcheck, and `runbook lint runbooks/ --no-shellcheck` against bare `node -e 0`.
// Goals: 1,000 runbooks in under 2 s without shellcheck; cold start within 150 ms of bare node.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('..', import.meta.url));
const cli = join(repo, 'bin/runbook.js');

/** One runbook of `steps` steps; every run text is unique (shellcheck cannot dedupe it), verify texts repeat. */
const generate = (index, steps) => {
  const lines = [
    'runbook: 1',
    `name: bench-${index}`,
    'kind: task',
    'vars:',
    `  service: svc-${index}`,
    '  dest: /backups',
    'secrets: [PGPASSWORD]',
    'steps:',
  ];
  for (let s = 0; s < steps; s++) {
    lines.push(`  - id: step-${s}`);
    if (s > 0) lines.push(`    needs: [step-${s - 1}]`);
    if (s % 5 === 4) {
      lines.push('    uses: http.wait', '    with:', `      url: "http://127.0.0.1:${8000 + s}/health"`);
    } else {
      lines.push('    env:', `      TARGET: "\${{ vars.dest }}/${index}-${s}"`);
      lines.push(
        '    run: |',
        `      mkdir -p "$TARGET/${index}"`,
        `      systemctl restart "$service-${s}"`,
        `      echo "done=${s}" >> "$RUNBOOK_OUTPUT"`,
      );
      lines.push(`    verify: systemctl is-active --quiet "$service-${s}"`);
    }
  }
  return lines.join('\n') + '\n';
};

const hasHyperfine = () => spawnSync('hyperfine', ['--version']).status === 0;

/** Median seconds of `command` (argv), by hyperfine when present, else by repeated timing; the median, not the mean, because other jobs share the machine and their bursts land in single runs. */
export const time = (command, { runs, warmup = 1 }) => {
  if (hasHyperfine()) {
    const out = join(mkdtempSync(join(tmpdir(), 'runbook-bench-')), 'h.json');
    const quoted = command.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
    // -i: lint exits 1 when the generated runbooks have findings; the time is what counts.
    execFileSync('hyperfine', ['-N', '-i', '--warmup', String(warmup), '--runs', String(runs), '--export-json', out, quoted], {
      stdio: 'ignore',
      cwd: repo,
    });
    const result = JSON.parse(readFileSync(out, 'utf8')).results[0];
    rmSync(join(out, '..'), { recursive: true, force: true });
    return result.median;
  }
  for (let i = 0; i < warmup; i++) spawnSync(command[0], command.slice(1), { cwd: repo });
  const times = [];
  for (let i = 0; i < runs; i++) {
    const start = process.hrtime.bigint();
    spawnSync(command[0], command.slice(1), { cwd: repo });
    times.push(Number(process.hrtime.bigint() - start) / 1e9);
  }
  return times.sort((a, b) => a - b)[Math.floor(times.length / 2)];
};

export const run = async ({ count = 1000, steps = 20 } = {}) => {
  const dir = mkdtempSync(join(tmpdir(), 'runbook-bench-lint-'));
  try {
    const folder = join(dir, 'runbooks');
    mkdirSync(folder);
    for (let i = 0; i < count; i++) writeFileSync(join(folder, `bench-${String(i).padStart(4, '0')}.yaml`), generate(i, steps));
    const node = process.execPath;
    const baseline = time([node, '-e', '0'], { runs: 20, warmup: 3 });
    const target = existsSync(join(repo, 'runbooks')) ? 'runbooks/' : folder;
    const cold = time([node, cli, 'lint', target, '--no-shellcheck'], { runs: 20, warmup: 3 });
    const bulk = time([node, cli, 'lint', folder, '--no-shellcheck', '--format', 'json'], { runs: 5 });
    const withShellcheck = time([node, cli, 'lint', folder, '--format', 'json'], { runs: 1, warmup: 0 });
    const ms = (s) => Math.round(s * 1000);
    return {
      name: 'lint',
      rows: [
        { what: 'cold start: node -e 0 (baseline)', value: ms(baseline), unit: 'ms' },
        {
          what: `cold start: runbook lint ${target} --no-shellcheck`,
          value: ms(cold),
          unit: 'ms',
          baseline: ms(baseline),
          ratio: +(cold / baseline).toFixed(2),
        },
        { what: 'cold start overhead over bare node (goal < 150 ms)', value: ms(cold - baseline), unit: 'ms' },
        {
          what: `lint ${count} runbooks × ${steps} steps --no-shellcheck (goal < 2000 ms)`,
          value: ms(bulk),
          unit: 'ms',
          baseline: ms(cold),
          ratio: +(bulk / cold).toFixed(2),
        },
        {
          what: `lint ${count} runbooks × ${steps} steps with shellcheck`,
          value: ms(withShellcheck),
          unit: 'ms',
          baseline: ms(bulk),
          ratio: +(withShellcheck / bulk).toFixed(2),
        },
        { what: 'throughput --no-shellcheck', value: Math.round(count / bulk), unit: 'runbooks/s' },
      ],
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
};

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const result = await run();
  for (const row of result.rows)
    console.log(`${row.what}: ${row.value} ${row.unit}${row.ratio !== undefined ? ` (×${row.ratio} of ${row.baseline} ${row.unit})` : ''}`);
}
