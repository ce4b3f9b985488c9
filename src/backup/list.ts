// What is under a backup destination: one entry per top-level folder named like a backup id, with
// its manifest when there is one. Manifests are fetched in one rclone call, never the data.
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseBackupId } from './id.js';
import { RcloneError, runRclone, type RcloneOptions } from './rclone.js';
import type { BackupManifest } from './manifest.js';

/** The name of the mark a prune writes into a folder before it starts deleting it. */
export const pruneMarkName = '.pruning';

/** One top-level folder of a destination whose name is a backup id. */
export interface BackupFolder {
  /** The folder name, e.g. `2026-11-25T020000Z`. */
  id: string;
  /** The UTC time the id names. */
  time: Date;
  /** `complete` (manifest.json parses), `incomplete` (no manifest: running, or died) or `damaged` (a manifest that does not parse). */
  state: 'complete' | 'incomplete' | 'damaged';
  /** The parsed manifest of a complete backup. */
  manifest?: BackupManifest;
  /** Why a manifest is damaged. */
  problem?: string;
  /** Whether an earlier prune marked the folder for deletion (it may be partly deleted). */
  marked: boolean;
}

interface ListEntry {
  Path: string;
  IsDir: boolean;
}

const readManifest = async (file: string): Promise<{ manifest?: BackupManifest; problem?: string }> => {
  try {
    const value: unknown = JSON.parse(await readFile(file, 'utf8'));
    if (typeof value !== 'object' || value === null || !Array.isArray((value as { files?: unknown }).files)) {
      return { problem: 'manifest.json is not a backup manifest (no files list)' };
    }
    return { manifest: value as BackupManifest };
  } catch (error) {
    return { problem: `manifest.json does not parse: ${(error as Error).message}` };
  }
};

/** Lists the backup folders under `dest`, oldest first; a destination that does not exist has none. */
export const listBackups = async (dest: string, options: RcloneOptions = {}): Promise<BackupFolder[]> => {
  let entries: ListEntry[];
  try {
    // --fast-list: one recursive listing (filtered to depth 2 afterwards). It costs a listing of every
    // object on S3, but per-directory listing misses folders that hold only subfolders on some
    // S3 servers (s3rver), and those are exactly the incomplete backups that must be seen.
    entries = JSON.parse(await runRclone(['lsjson', '-R', '--fast-list', '--max-depth', '2', dest], options)) as ListEntry[];
  } catch (error) {
    if (error instanceof RcloneError && error.exitCode === 3) return [];
    throw error;
  }
  const folders = new Map<string, { hasManifest: boolean; marked: boolean }>();
  for (const entry of entries) {
    const [top, child, ...rest] = entry.Path.split('/');
    if (!top || rest.length || !parseBackupId(top)) continue;
    if (child === undefined && !entry.IsDir) continue;
    const folder = folders.get(top) ?? { hasManifest: false, marked: false };
    if (child === 'manifest.json' && !entry.IsDir) folder.hasManifest = true;
    if (child === pruneMarkName && !entry.IsDir) folder.marked = true;
    folders.set(top, folder);
  }
  const withManifest = [...folders].filter(([, folder]) => folder.hasManifest).map(([id]) => id);
  const manifests = new Map<string, { manifest?: BackupManifest; problem?: string }>();
  if (withManifest.length) {
    const scratch = await mkdtemp(join(tmpdir(), 'runbook-manifests-'));
    try {
      await runRclone(['copy', dest, scratch, '--max-depth', '2', '--include', '/*/manifest.json'], options);
      for (const id of await readdir(scratch)) manifests.set(id, await readManifest(join(scratch, id, 'manifest.json')));
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  }
  return [...folders]
    .map(([id, folder]): BackupFolder => {
      const read = manifests.get(id);
      if (!folder.hasManifest) return { id, time: parseBackupId(id)!, state: 'incomplete', marked: folder.marked };
      if (read?.manifest) return { id, time: parseBackupId(id)!, state: 'complete', manifest: read.manifest, marked: folder.marked };
      // Listed but not fetched: deleted between the two calls, or unreadable.
      return {
        id,
        time: parseBackupId(id)!,
        state: 'damaged',
        problem: read?.problem ?? 'manifest.json could not be fetched',
        marked: folder.marked,
      };
    })
    .sort((a, b) => a.time.getTime() - b.time.getTime());
};
