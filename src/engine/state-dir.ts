// The state folder holds journals, logs and step outputs: masked, but still a run's private record.
// Every folder the engine makes under it is 0700 and every file 0600, set explicitly rather than
// through the umask, so the files steps create in the user's own trees keep the user's modes.
import { chmodSync, lstatSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ExitCode, ExitError } from '../errors.js';
import { describeStateFault, errnoText, makeDirectories } from './state-fault.js';

export const privateDir = 0o700;
export const privateFile = 0o600;

/** The entries the engine itself makes in a state folder. */
const ownEntries = new Set(['runs', 'locks']);

const modeOf = (path: string): number => statSync(path).mode & 0o777;

/** Makes `path` (and its missing parents) a private folder. */
export const makePrivateDir = (path: string): void => {
  makeDirectories(path, privateDir);
  if (modeOf(path) !== privateDir) chmodSync(path, privateDir);
};

/** Folders to 0700, files to 0600 (an executable file keeps its owner's x: 0700), symlinks untouched. */
const tightenTree = (path: string): void => {
  const stat = lstatSync(path);
  if (stat.isSymbolicLink()) return;
  if (stat.isDirectory()) {
    if ((stat.mode & 0o777) !== privateDir) chmodSync(path, privateDir);
    for (const entry of readdirSync(path)) tightenTree(join(path, entry));
  } else if (stat.isFile()) {
    const wanted = stat.mode & 0o100 ? privateDir : privateFile;
    if ((stat.mode & 0o777) !== wanted) chmodSync(path, wanted);
  }
};

/**
 * Creates the state folder private, or tightens one an older version left readable by others
 * (its runs and locks, recursively). A wide folder that holds more than the engine's own entries
 * (`--state-dir` pointed at a shared folder) keeps its mode: its runs/ and locks/ are private
 * all the same. Returns warnings saying what was changed or left.
 */
export const prepareStateDir = (stateDir: string): string[] => {
  const warnings: string[] = [];
  try {
    makeDirectories(stateDir, privateDir);
  } catch (error) {
    throw new ExitError(ExitCode.usage, `${describeStateFault(stateDir, (error as NodeJS.ErrnoException).path, error)}; nothing was run`);
  }
  // Tightening is best effort: a folder of another user cannot be chmod'ed, and whether it can be
  // written is for the lock to find out (it names the errno and refuses).
  const tighten = (what: string, change: () => void): boolean => {
    try {
      change();
      return true;
    } catch (error) {
      warnings.push(`cannot make ${what} private: ${errnoText(error)}`);
      return false;
    }
  };
  const rootMode = modeOf(stateDir);
  const widened: string[] = [];
  for (const name of ownEntries) {
    const path = join(stateDir, name);
    let mode: number;
    try {
      mode = modeOf(path);
    } catch {
      continue; // made private when first needed: a run refused before it starts leaves no runs/
    }
    // Only an older version's folder is walked: a private one holds only private files.
    if (mode !== privateDir && tighten(path, () => tightenTree(path))) widened.push(name);
  }
  if (rootMode !== privateDir) {
    if (readdirSync(stateDir).every((entry) => ownEntries.has(entry))) {
      if (tighten(stateDir, () => chmodSync(stateDir, privateDir))) widened.unshift('.');
    } else
      warnings.push(
        `state folder ${stateDir} is mode ${rootMode.toString(8)} and holds other files: left as it is; its runs/ and locks/ are private (0700)`,
      );
  }
  if (widened.length > 0)
    warnings.push(
      `tightened the state folder ${stateDir} (${widened.join(', ')}), made readable by others by an older version: folders 0700, files 0600`,
    );
  return warnings;
};
