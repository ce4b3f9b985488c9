// The actions' shell library (.sh, .sql, .jq beside their TypeScript) is read at run time from the
// folder of the compiled module, so the build copies it into dist/ next to it.
import { cpSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const shell = /\.(sh|sql|jq)$/;
const target = join(root, 'dist/actions');
// A file renamed in src/ must not linger in dist/: the library refuses a function defined twice.
for (const entry of readdirSync(target, { recursive: true })) if (shell.test(entry)) rmSync(join(target, entry));
cpSync(join(root, 'src/actions'), target, {
  recursive: true,
  filter: (source) => statSync(source).isDirectory() || shell.test(source),
});
