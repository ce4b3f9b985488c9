// Hand-made backup manifests for tests that build a backup folder without running a backup action:
// the header every manifest carries (schemas/manifest.schema.json), so each test writes only what
// it is about.
import { createHash } from 'node:crypto';

export const sha256 = (content: string | Buffer): string => createHash('sha256').update(content).digest('hex');

/** A `files` entry for `content` stored as `name`. */
export const fileEntry = (name: string, content: string | Buffer) => ({ name, bytes: Buffer.byteLength(content), sha256: sha256(content) });

/** The UTC time a backup id names, as a manifest's `created`; a name that is no id gets a fixed time. */
const createdOf = (id: string): string =>
  /^\d{4}-\d\d-\d\dT\d{6}Z$/.test(id) ? `${id.slice(0, 13)}:${id.slice(13, 15)}:${id.slice(15, 17)}Z` : '2026-01-01T00:00:00Z';

/** A manifest of `kind` for backup `id`: the format, `created` from the id, a test runbook, then `fields`. */
export const handMadeManifest = (kind: string, id: string, fields: Record<string, unknown> & { files: unknown[] }) => ({
  format: 'runbook-backup/1',
  kind,
  id,
  created: createdOf(id),
  source: { path: '/srv' },
  runbook: { name: 'test', commit: '', run_id: '', step: '' },
  ...fields,
});
