// `runbook backups DEST --pick latest|ID`: the backup a restore uses, chosen by the one definition
// of trust (trust.ts), with the exact manifest bytes that were checked, so the restore's shell uses
// what was verified and downloads no second copy.
import { ExitCode, ExitError } from '../errors.js';
import { parseBackupId } from './id.js';
import type { RcloneOptions } from './rclone.js';
import { loadBackups, newestTrusted, type BackupFolder, type TrustOptions } from './trust.js';

/** What {@link pickBackup} chose. */
export interface PickedBackup {
  id: string;
  /** The exact bytes of its manifest.json that were checked. */
  manifest: Buffer;
  folder: BackupFolder;
  /** Newer folders passed over for `latest`, and why (said to the person restoring). */
  skipped: string[];
}

/**
 * The newest trusted complete backup under `dest` (`which` = `latest`), or the backup `which` names
 * when it is trusted. Fails (exit 1) naming why when there is none, or the named one is not trusted.
 */
export const pickBackup = async (dest: string, which: string, options: TrustOptions & RcloneOptions = {}): Promise<PickedBackup> => {
  if (which !== 'latest' && !parseBackupId(which)) {
    throw new ExitError(ExitCode.failed, `${JSON.stringify(which)} is not a backup id (YYYY-MM-DDTHHMMSSZ, a real UTC time) nor latest`);
  }
  const { backups } = await loadBackups(dest, options);
  if (which !== 'latest') {
    const folder = backups.find((backup) => backup.id === which);
    if (!folder) throw new ExitError(ExitCode.failed, `no backup ${which} under ${dest}`);
    if (folder.state !== 'complete')
      throw new ExitError(ExitCode.failed, `backup ${which} is not trusted: ${folder.problems.join('; ')} (under ${dest})`);
    return { id: which, manifest: folder.manifestBytes!, folder, skipped: [] };
  }
  const newest = newestTrusted(backups);
  const skipped = backups
    .filter((folder) => folder.state !== 'complete' && (!newest || folder.time > newest.time))
    .map((folder) => `${folder.id} is not trusted (${folder.problems.join('; ')}): skipped`);
  if (!newest) {
    throw new ExitError(
      ExitCode.failed,
      [...skipped, `no trusted complete backup under ${dest}${backups.length ? '' : ' (no backup folders at all)'}`].join('\n'),
    );
  }
  return { id: newest.id, manifest: newest.manifestBytes!, folder: newest, skipped };
};
