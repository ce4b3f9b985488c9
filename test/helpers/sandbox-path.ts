// A PATH on which some system commands are missing: a temp folder of symbolic links to every command
// of the system PATH but the hidden ones, so a test can show what a run does on a host without Docker.
import { mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemPath } from '../../tools/stack/run.js';

export interface SandboxPath {
  /** The folder to put on PATH instead of the system's folders. */
  dir: string;
  remove: () => void;
}

/** Links every command of the system PATH (the first of each name) except `hidden` into one folder. */
export const createPathWithout = (hidden: readonly string[]): SandboxPath => {
  const dir = mkdtempSync(join(tmpdir(), 'runbook-path-'));
  const linked = new Set(hidden);
  for (const folder of systemPath().split(':')) {
    let names: string[];
    try {
      names = readdirSync(folder);
    } catch {
      continue;
    }
    for (const name of names) {
      if (linked.has(name)) continue;
      linked.add(name);
      symlinkSync(join(folder, name), join(dir, name));
    }
  }
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
};
