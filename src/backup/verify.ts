// `runbook backups --verify`: re-hashes a backup's stored bytes (rclone downloads them; Node only
// reads the hash lines) and compares them with its manifest.
import type { BackupManifest } from './manifest.js';
import { joinRemote, runRclone, type RcloneOptions } from './rclone.js';
import { signatureName } from './signature.js';

/** Differences between a backup's stored files and its manifest; empty when they agree. */
export const verifyBackupData = async (
  dest: string,
  id: string,
  manifest: BackupManifest,
  options: RcloneOptions = {},
): Promise<string[]> => {
  const output = await runRclone(
    [
      'hashsum',
      'sha256',
      '--download',
      '--exclude',
      '/manifest.json',
      '--exclude',
      `/${signatureName}`,
      '--exclude',
      '/.pruning',
      joinRemote(dest, id),
    ],
    options,
  );
  const stored = new Map<string, string>();
  for (const line of output.split('\n')) {
    const match = /^([0-9a-f]{64}) {2}(.*)$/.exec(line);
    if (match) stored.set(match[2]!, match[1]!);
  }
  const problems: string[] = [];
  for (const file of manifest.files) {
    const hash = stored.get(file.name);
    if (hash === undefined) problems.push(`${file.name}: missing`);
    else if (hash !== file.sha256) problems.push(`${file.name}: sha256 ${hash} differs from the manifest's ${file.sha256}`);
    stored.delete(file.name);
  }
  for (const name of stored.keys()) problems.push(`${name}: not in the manifest`);
  return problems;
};
