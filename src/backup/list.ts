// What is under a backup destination: one entry per top-level folder, with every object below it
// and its size (one rclone listing), and the exact bytes of its manifest.json and manifest.json.sig
// (one rclone call for all of them). Nothing here is trusted yet: trust.ts judges each folder.
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseBackupId } from './id.js';
import { RcloneError, runRclone, type RcloneOptions } from './rclone.js';
import { signatureName } from './signature.js';

/** The name of the mark a prune writes into a folder before it starts deleting it. */
export const pruneMarkName = '.pruning';

/** One top-level folder of a destination, as stored. */
export interface ListedFolder {
  /** The folder name: a backup id when it is a backup, but any name here. */
  name: string;
  /** Every object below the folder (path relative to it, `.rclonelink` names as stored) and its size. */
  objects: Map<string, number>;
  /** The exact bytes of manifest.json, when the folder has one that could be fetched. */
  manifest?: Buffer;
  /** Whether manifest.json is listed (it may still not have been fetched: deleted meanwhile). */
  hasManifest: boolean;
  /** The exact bytes of manifest.json.sig, when there is one. */
  signature?: Buffer;
  /** Whether an earlier prune marked the folder for deletion (it may be partly deleted). */
  marked: boolean;
}

interface ListEntry {
  Path: string;
  Size: number;
  IsDir: boolean;
}

/** Reads `file`, or undefined when it is not there. */
const readIfThere = async (file: string): Promise<Buffer | undefined> => {
  try {
    return await readFile(file);
  } catch {
    return undefined;
  }
};

/** Lists the top-level folders under `dest` by name; a destination that does not exist has none. */
export const listFolders = async (dest: string, options: RcloneOptions = {}): Promise<ListedFolder[]> => {
  let entries: ListEntry[];
  try {
    // --fast-list: one recursive listing of every object with its size (what trust checks against
    // the manifest without downloading anything). --links: a local destination's symbolic links show
    // as NAME.rclonelink, as they are stored on S3.
    entries = JSON.parse(await runRclone(['lsjson', '-R', '--fast-list', '--links', dest], options)) as ListEntry[];
  } catch (error) {
    if (error instanceof RcloneError && error.exitCode === 3) return [];
    throw error;
  }
  const folders = new Map<string, ListedFolder>();
  for (const entry of entries) {
    const [top, ...rest] = entry.Path.split('/');
    if (!top || (!rest.length && !entry.IsDir)) continue;
    const folder = folders.get(top) ?? { name: top, objects: new Map(), hasManifest: false, marked: false };
    folders.set(top, folder);
    if (entry.IsDir || !rest.length) continue;
    const path = rest.join('/');
    folder.objects.set(path, entry.Size);
    if (path === 'manifest.json') folder.hasManifest = true;
    if (path === pruneMarkName) folder.marked = true;
  }
  // Only folders named like backups: their names hold no pattern characters, and nothing else is fetched.
  const withManifest = [...folders.values()].filter((folder) => folder.hasManifest && parseBackupId(folder.name));
  if (withManifest.length) {
    const scratch = await mkdtemp(join(tmpdir(), 'runbook-manifests-'));
    try {
      const filter = join(scratch, 'include.txt');
      await writeFile(filter, withManifest.map(({ name }) => `/${name}/manifest.json\n/${name}/${signatureName}\n`).join(''));
      await runRclone(['copy', dest, join(scratch, 'fetched'), '--max-depth', '2', '--ignore-checksum', '--include-from', filter], options);
      const fetched = new Set(await readdir(join(scratch, 'fetched')).catch(() => [] as string[]));
      for (const folder of withManifest) {
        if (!fetched.has(folder.name)) continue;
        folder.manifest = await readIfThere(join(scratch, 'fetched', folder.name, 'manifest.json'));
        folder.signature = await readIfThere(join(scratch, 'fetched', folder.name, signatureName));
      }
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  }
  return [...folders.values()];
};
