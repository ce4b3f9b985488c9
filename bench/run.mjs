// `npm run bench`: runs every benchmark module in bench/ and prints each figure beside its
// baseline measured in the same run (these machines are noisy; only ratios travel).
// `npm run bench -- lint engine` runs a subset.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { withoutNodeModulesBin } from '../dist/shell/path.js';

const here = fileURLToPath(new URL('.', import.meta.url));
// The system binaries every pipeline measured here means, as steps get them (src/shell/path.ts).
process.env.PATH = withoutNodeModulesBin(process.env.PATH ?? '');
delete process.env.AWS_CA_BUNDLE;
const wanted = process.argv.slice(2);
// Cheap, latency-sensitive benchmarks first: the dump's gigabyte of dirty pages slows every
// spawn and fsync measured after it.
const order = ['engine', 'lint', 'drill', 'dump'];
const rank = (name) => (order.includes(name) ? order.indexOf(name) : order.length);
const modules = readdirSync(here)
  .filter((f) => f.endsWith('.mjs') && f !== 'run.mjs')
  .filter((f) => wanted.length === 0 || wanted.includes(f.replace('.mjs', '')))
  .sort((a, b) => rank(a.replace('.mjs', '')) - rank(b.replace('.mjs', '')) || a.localeCompare(b));

const format = (value, unit) =>
  typeof value === 'number' ? `${Number.isInteger(value) ? value : value.toFixed(2)} ${unit ?? ''}`.trim() : String(value);

let failed = false;
for (const file of modules) {
  // Flush what the previous benchmark wrote, so its writeback does not land in this one's figures.
  spawnSync('sync');
  const { run } = await import(new URL(file, import.meta.url));
  if (typeof run !== 'function') continue;
  process.stdout.write(`\n## ${file.replace('.mjs', '')}\n`);
  try {
    const result = await run();
    for (const row of result.rows) {
      const baseline = row.baseline !== undefined ? `   baseline ${format(row.baseline, row.unit)}` : '';
      const ratio = row.ratio !== undefined ? `   ratio ${row.ratio.toFixed(2)}×` : '';
      process.stdout.write(`- ${row.what}: ${format(row.value, row.unit)}${baseline}${ratio}${row.goal ? `   (goal ${row.goal})` : ''}\n`);
    }
  } catch (error) {
    failed = true;
    process.stdout.write(`failed: ${error?.message ?? error}\n`);
  }
}
process.exitCode = failed ? 1 : 0;
