// git.restore proves bytes before it writes and writes only what the manifest lists: an altered
// bundle is refused with the target untouched, a bundle planted in the store beside the backup's is
// never restored, and a repository name in the manifest that leaves the target is refused.
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gitBackup } from '../../src/actions/git.backup/index.js';
import { gitRestore } from '../../src/actions/git.restore/index.js';
import { createBareRepositories } from '../../tools/stack/git.js';
import { expectOk, requireBinaries, runStep } from '../backup/shell.js';

const context = { runbook: 'git-bytes', stepId: 'restore', secrets: [] };

let root: string;
let dest: string;
let id: string;
let repo: string;
beforeAll(async () => {
  requireBinaries('git', 'rclone', 'jq', 'sha256sum');
  root = mkdtempSync(join(tmpdir(), 'git-bytes-'));
  const repositories = join(root, 'gitea');
  repo = Object.keys(await createBareRepositories({ dir: repositories, count: 1, branches: 1, tags: 0, commits: 2 }))[0]!;
  dest = join(root, 'dest');
  const backup = await runStep(gitBackup.expand({ repositories, to: dest }, context), root);
  expectOk(backup.run, 'backup');
  id = backup.outputs.backup!;
}, 60_000);
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A copy of the backup destination for one case to change. */
const copyOf = (name: string) => {
  const copy = join(root, name, 'dest');
  cpSync(dest, copy, { recursive: true });
  return copy;
};

const restore = (from: string, to: string) =>
  runStep(gitRestore.expand({ from, to, backup: id, allow_unsigned: true }, context), join(root));

describe('git.restore', () => {
  it('an altered bundle is refused and nothing is written', async () => {
    const from = copyOf('altered');
    const bundle = join(from, id, 'bundles', `${repo}.git.bundle`);
    const bytes = readFileSync(bundle);
    bytes[bytes.length - 1] = bytes.at(-1)! ^ 0xff;
    writeFileSync(bundle, bytes);
    const target = join(root, 'altered', 'target');
    const { run } = await restore(from, target);
    expect(run.code).not.toBe(0);
    expect(existsSync(target) ? readdirSync(target) : []).toEqual([]);
  });

  it('a bundle planted beside the backup is never restored', async () => {
    const from = copyOf('planted');
    cpSync(join(from, id, 'bundles', `${repo}.git.bundle`), join(from, id, 'bundles', 'planted', 'evil.git.bundle'), { recursive: true });
    const target = join(root, 'planted', 'target');
    const { run } = await restore(from, target);
    expectOk(run, 'restore');
    expect(existsSync(join(target, 'planted'))).toBe(false);
  });

  it('a repository name in the manifest that leaves the target is refused before anything is written', async () => {
    const from = copyOf('escaping');
    const manifestFile = join(from, id, 'manifest.json');
    const manifest = JSON.parse(readFileSync(manifestFile, 'utf8'));
    manifest.refs['../../escaped'] = manifest.refs[`${repo}.git`] ?? Object.values(manifest.refs)[0];
    writeFileSync(manifestFile, JSON.stringify(manifest));
    const target = join(root, 'escaping', 'deep', 'target');
    const { run } = await restore(from, target);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(/unsafe|not trusted/);
    expect(existsSync(join(root, 'escaping', 'escaped'))).toBe(false);
    expect(existsSync(target) ? readdirSync(target) : []).toEqual([]);
  });
});
