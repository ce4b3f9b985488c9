#!/usr/bin/env node
// The package builds itself on first use: `.npmrc` sets ignore-scripts (rclone.js's install script
// would download an rclone binary), which also skips our own `prepare` during `npm ci`.
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const entry = new URL('../dist/cli/index.js', import.meta.url);

if (!existsSync(entry)) {
  const tsc = fileURLToPath(new URL('../node_modules/typescript/bin/tsc', import.meta.url));
  const built = spawnSync(process.execPath, [tsc, '-p', root], { stdio: 'inherit' });
  if (built.status !== 0) {
    process.stderr.write('runbook: building dist/ failed; run `npm ci && npm run build` in ' + root + '\n');
    process.exit(2);
  }
}

const { main } = await import(entry.href);
await main(process.argv.slice(2));
