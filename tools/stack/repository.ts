// The repository's root folder, the same whether this code runs as source (tools/stack/, under vitest)
// or compiled (dist-tools/tools/stack/, for the demo and the benchmarks), which sit at different depths.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const findRepository = (from: string): string => {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`no package.json above ${from}`);
  }
};

/** The folder of the runbook repository's package.json (where bin/, runbooks/ and node_modules/ are). */
export const repository = findRepository(dirname(fileURLToPath(import.meta.url)));
