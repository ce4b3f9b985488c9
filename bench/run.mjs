// `npm run bench`: runs every benchmark module in bench/ and prints each figure beside its
// baseline measured in the same run (these machines are noisy; only ratios travel).
// `npm run bench -- lint engine` runs a subset.
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const wanted = process.argv.slice(2);
const modules = readdirSync(here)
  .filter((f) => f.endsWith('.mjs') && f !== 'run.mjs')
  .filter((f) => wanted.length === 0 || wanted.includes(f.replace('.mjs', '')))
  .sort();

const format = (value, unit) => (typeof value === 'number' ? `${Number.isInteger(value) ? value : value.toFixed(2)} ${unit ?? ''}`.trim() : String(value));

let failed = false;
for (const file of modules) {
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
