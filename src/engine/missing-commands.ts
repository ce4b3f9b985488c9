// Finding commands on PATH, and the one message preflight and the step check both give when some
// are missing: each with its Debian package, then the line that installs them all.
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { debianPackageOf } from './debian-packages.js';

// A folder is "executable" too: only a file (or a link to one) counts as a command.
const isCommand = (file: string): boolean => {
  try {
    accessSync(file, constants.X_OK);
    return statSync(file).isFile();
  } catch {
    return false;
  }
};

/** The commands of `commands` that no folder of `path` holds as an executable file, each once. */
export const missingCommands = (commands: readonly string[], path = process.env.PATH ?? ''): string[] =>
  [...new Set(commands)].filter((command) => !path.split(delimiter).some((dir) => isCommand(join(dir || '.', command))));

/**
 * `required command(s) not found on PATH: docker (package docker.io), foo (no Debian package known)`
 * and, when any package is known, `install them with: apt-get install -y PACKAGE…` (sorted, each once).
 */
export const describeMissingCommands = (missing: readonly string[]): string => {
  const named = missing.map((command) => {
    const name = debianPackageOf(command);
    return `${command} (${name ? `package ${name}` : 'no Debian package known'})`;
  });
  const known = [...new Set(missing.map(debianPackageOf).filter((name): name is string => name !== undefined))].sort();
  const head = `required command(s) not found on PATH: ${named.join(', ')}`;
  return known.length > 0 ? `${head}\ninstall them with: apt-get install -y ${known.join(' ')}` : head;
};
