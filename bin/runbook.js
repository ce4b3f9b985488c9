#!/usr/bin/env node
// A clone builds itself on first use (`npm ci` runs no scripts: `.npmrc` sets ignore-scripts); the
// packed package ships dist/, built before packing (prepack).
//
// Everything up to the dynamic import below must run on old Node (14 and later: no syntax or
// builtin newer than that), so that Node older than 20 gets one line saying what to do instead of
// a failure deep in a dependency (on 18, listr2's string-width does not even load).
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const nodeMajor = Number(process.versions.node.split('.')[0]);
if (nodeMajor < 20) {
  process.stderr.write(
    'runbook: needs Node.js 20 or newer (this is ' +
      process.versions.node +
      '); install Node 20 (https://nodejs.org or NodeSource), or use the single executable runbook-linux-x64, which needs no Node\n',
  );
  // 2, as for a usage error (DESIGN.md): nothing was run, and the fix is the caller's setup.
  process.exit(2);
}

const root = fileURLToPath(new URL('..', import.meta.url));
const entry = new URL('../dist/cli/index.js', import.meta.url);

if (!existsSync(entry)) {
  // The same steps as `npm run build`: the schema's types and validators are generated, not committed.
  const steps = [
    [fileURLToPath(new URL('../scripts/gen-types.mjs', import.meta.url))],
    [fileURLToPath(new URL('../scripts/gen-version.mjs', import.meta.url))],
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
