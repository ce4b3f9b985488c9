#!/usr/bin/env node
// The package builds itself on first use: `.npmrc` sets ignore-scripts (rclone.js's install script
// would download an rclone binary), which also skips our own `prepare` during `npm ci`.
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const entry = new URL('../dist/cli/index.js', import.meta.url);

if (!existsSync(entry)) {
  // The same steps as `npm run build`: the schema's types and validators are generated, not committed.
  const steps = [
    [fileURLToPath(new URL('../scripts/gen-types.mjs', import.meta.url))],
    [fileURLToPath(new URL('../scripts/build-validators.mjs', import.meta.url))],
    [fileURLToPath(new URL('../node_modules/typescript/bin/tsc', import.meta.url)), '-p', root],
    [fileURLToPath(new URL('../scripts/copy-shell.mjs', import.meta.url))],
  ];
  for (const args of steps) {
    const built = spawnSync(process.execPath, args, { stdio: ['ignore', 'ignore', 'inherit'] });
    if (built.status !== 0) {
      process.stderr.write('runbook: building dist/ failed; run `npm ci && npm run build` in ' + root + '\n');
      process.exit(2);
    }
  }
}

const { main } = await import(entry.href);
await main(process.argv.slice(2));
