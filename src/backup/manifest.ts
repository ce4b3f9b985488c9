// The manifest every backup action writes last (schemas/manifest.schema.json); only the fields the
// TypeScript side reads are typed here, the schema stays the definition.

/** One data file of a backup folder. */
export interface ManifestFile {
  /** Path relative to the backup folder. */
  name: string;
  bytes: number;
  sha256: string;
  /** `symlink` for a symbolic link of a files backup (stored as NAME.rclonelink). */
  type?: 'symlink';
}

/** The parts of manifest.json that listing, retention and `--verify` use. */
export interface BackupManifest {
  format?: string;
  kind?: string;
  id?: string;
  created?: string;
  files: ManifestFile[];
  [field: string]: unknown;
}

/** Total bytes of a backup's data files, as its manifest records them. */
export const manifestBytes = (manifest: BackupManifest): number =>
  manifest.files.reduce((sum, file) => sum + (Number.isFinite(file.bytes) ? file.bytes : 0), 0);
