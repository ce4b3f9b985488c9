// Builds the single executable: the CLI bundled by esbuild into one CommonJS file with the schemas
// and the actions' shell library inside it, injected into a copy of this machine's node as a Node
// single executable application (node --experimental-sea-config, postject). Nothing is downloaded.
// Writes OUT/runbook-linux-<arch> and, beside it, its sha256 in `sha256sum` format.
// Usage: node scripts/build-binary.mjs [OUT] (default build/; after `npm run build`, and
// `npm run build:binary` runs both).
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { inject } from 'postject';

const root = fileURLToPath(new URL('..', import.meta.url));
const out = resolve(process.argv[2] ?? join(root, 'build'));
const name = `runbook-${process.platform}-${process.arch}`;
const executable = join(out, name);

const filesBelow = (folder, pattern) =>
  readdirSync(folder, { recursive: true })
    .map((entry) => join(folder, entry))
    .filter((path) => pattern.test(path))
    .sort();

/** What package/files.ts reads from disk, by the names embedded.ts asks for. */
const embeddedFiles = () => {
  const files = {};
  // The published schemas only: schemas/source/ is what they are generated from.
  const published = filesBelow(join(root, 'schemas'), /\.schema\.json$/).filter((path) => !path.includes('/schemas/source/'));
  for (const path of published) files[relative(root, path)] = readFileSync(path, 'utf8');
  const actions = join(root, 'dist', 'actions');
  for (const path of filesBelow(actions, /\.(sh|sql|jq)$/)) files[`actions/${relative(actions, path)}`] = readFileSync(path, 'utf8');
  return files;
};

const embedPackageFiles = {
  name: 'embed-package-files',
  setup(bundler) {
    const files = join(root, 'dist', 'package', 'files.js');
    bundler.onResolve({ filter: /^runbook-embedded-files$/ }, () => ({ path: 'files', namespace: 'embedded' }));
    bundler.onLoad({ filter: /.*/, namespace: 'embedded' }, () => ({
      contents: `export default ${JSON.stringify(embeddedFiles())};`,
      loader: 'js',
    }));
    bundler.onResolve({ filter: /\/package\/files\.js$/ }, (args) =>
      join(args.resolveDir, args.path) === files ? { path: join(root, 'dist', 'package', 'embedded.js') } : undefined,
    );
  },
};

mkdirSync(out, { recursive: true });
const bundle = join(out, 'runbook.cjs');
const result = await build({
  entryPoints: [join(root, 'dist', 'cli', 'binary.js')],
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  outfile: bundle,
  plugins: [embedPackageFiles],
  logLevel: 'warning',
});
// import.meta is empty in CommonJS: a module that still reaches for its own folder would break
// inside the executable, so that is a build error, not a warning.
const emptyImportMeta = result.warnings.filter((warning) => warning.id === 'empty-import-meta');
if (emptyImportMeta.length > 0) {
  const where = emptyImportMeta.map((warning) => `${warning.location?.file}:${warning.location?.line}`).join(', ');
  throw new Error(`import.meta would be empty in the executable: ${where}`);
}

const config = join(out, 'sea-config.json');
const blob = join(out, 'sea-prep.blob');
writeFileSync(config, JSON.stringify({ main: bundle, output: blob, disableExperimentalSEAWarning: true, useCodeCache: true }));
execFileSync(process.execPath, ['--experimental-sea-config', config], { stdio: ['ignore', 'ignore', 'inherit'] });
// A new file, not the old one rewritten: the old one may be running (ETXTBSY).
rmSync(executable, { force: true });
copyFileSync(process.execPath, executable);
chmodSync(executable, 0o755);
await inject(executable, 'NODE_SEA_BLOB', readFileSync(blob), { sentinelFuse: 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2' });
for (const file of [config, blob]) rmSync(file);
const digest = createHash('sha256').update(readFileSync(executable)).digest('hex');
writeFileSync(`${executable}.sha256`, `${digest}  ${name}\n`);
console.log(`wrote ${executable} (${(readFileSync(executable).length / 2 ** 20).toFixed(1)} MiB) and ${name}.sha256`);
