// One definition of "the newest trusted complete backup": for each way a newer folder can be
// untrustworthy, `runbook backups` (its newest), `backups --pick latest` (what the restore actions
// call), retention (`--prune --apply`) and files.restore's `latest` give the same answer: the older
// good backup. An explicit id that is untrusted is refused, naming why.
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { filesRestore } from '../../src/actions/files.restore/index.js';
import { formatBackupId } from '../../src/backup/id.js';
import { inspectBackups } from '../../src/backup/inspect.js';
import { pickBackup } from '../../src/backup/pick.js';
import { expectBuilt, runCli } from '../helpers/cli.js';
import { requireBinaries, runStep } from './shell.js';
import { writeFilesBackup, type FilesBackupOptions } from './trust-fixture.js';

const hour = 3_600_000;
const day = 24 * hour;
const context = { runbook: 'trust', stepId: 'restore', secrets: [] };

let root: string;
beforeAll(() => {
  requireBinaries('rclone', 'jq', 'sha256sum', 'ssh-keygen');
  expectBuilt('cli/backups.js');
  root = mkdtempSync(join(tmpdir(), 'trust-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Two good backups (3 and 2 days old) and the case's newer folder; returns the destination and the ids. */
const setUp = (name: string, badId: string, bad: FilesBackupOptions) => {
  const dest = join(root, name, 'dest');
  const older = formatBackupId(new Date(Date.now() - 3 * day));
  const good = formatBackupId(new Date(Date.now() - 2 * day));
  writeFilesBackup(dest, older);
  writeFilesBackup(dest, good);
  writeFilesBackup(dest, badId, bad);
  return { dest, good, older };
};

/**
 * The four answers to "which backup is the newest trusted complete one": `backups` and retention and
 * `--pick` in process (the code the CLI calls; the CLI itself is driven below and by the restore,
 * whose shell calls `runbook backups --pick`), and files.restore's `latest`.
 */
const answers = async (name: string, dest: string, cli = false) => {
  const signatures = { allowUnsigned: true };
  const listed = cli
    ? await runCli(['backups', dest, '--allow-unsigned', '--format', 'json'])
    : { stdout: JSON.stringify(await inspectBackups(dest, { signatures })), stderr: '', code: 0 };
  const newest = (JSON.parse(listed.stdout) as { newest?: string }).newest;

  const manifestCopy = join(root, name, 'picked.json');
  const picked = cli
    ? await runCli(['backups', dest, '--pick', 'latest', '--allow-unsigned', '--manifest-to', manifestCopy])
    : await pickBackup(dest, 'latest', { signatures }).then((pick) => {
        writeFileSync(manifestCopy, pick.manifest);
        return { code: 0, stdout: `${pick.id}\n`, stderr: '' };
      });

  const target = join(root, name, 'target');
  mkdirSync(target, { recursive: true });
  const restore = await runStep(
    filesRestore.expand({ from: dest, to: target, backup: 'latest', allow_unsigned: true }, context),
    join(root, name),
    {},
    // The run is what picks `latest`; its verification picks the same id again (tested elsewhere).
    { verify: false },
  );

  const pruned = join(root, name, 'pruned');
  cpSync(dest, pruned, { recursive: true });
  const pruneArgs = ['--keep-daily', '1', '--keep-weekly', '0', '--keep-monthly', '0', '--prune', '--apply', '--allow-unsigned'];
  const prune = cli
    ? await runCli(['backups', pruned, ...pruneArgs])
    : await inspectBackups(pruned, { policy: { daily: 1, weekly: 0, monthly: 0 }, prune: true, apply: true, signatures }).then(
        (report) => ({
          code: report.problems.length ? 1 : 0,
          stdout: JSON.stringify(report),
          stderr: report.problems.join('\n'),
        }),
      );
  const kept = readdirSync(pruned).filter((id) => existsSync(join(pruned, id, 'manifest.json')));
  return { listed, newest, picked, manifestCopy, restore, target, prune, kept };
};

/** Every answer is `good`: listing, pick, restore (its files, and it says which), retention. */
const expectGood = async (name: string, badId: string, bad: FilesBackupOptions, because: RegExp, cli = false) => {
  const { dest, good } = setUp(name, badId, bad);
  const result = await answers(name, dest, cli);
  expect(result.newest, result.listed.stdout).toBe(good);
  expect(result.listed.stdout + result.listed.stderr, 'backups names why the newer folder is not trusted').toMatch(because);
  expect(result.picked.code, result.picked.stderr).toBe(0);
  expect(result.picked.stdout.trim()).toBe(good);
  expect(JSON.parse(readFileSync(result.manifestCopy, 'utf8')).id).toBe(good);
  expect(result.restore.run.code, result.restore.run.stderr).toBe(0);
  expect(result.restore.outputs.backup).toBe(good);
  expect(readdirSync(result.target)).toEqual([`${good}.txt`]);
  // A folder dated in the future is a problem to report (exit 1) after the prune did its work.
  if (result.prune.code !== 0) expect(result.prune.stderr).toMatch(/dated in the future/);
  expect(result.kept, 'retention keeps the newest good backup').toContain(good);
  return result;
};

const recent = () => formatBackupId(new Date(Date.now() - hour));

describe.concurrent('a newer folder that is not a trusted complete backup is never "latest"', () => {
  it('its manifest lists data that is not in the store (the issue: retention deleted every good backup)', async () => {
    const id = recent();
    // Through the CLI, as the tester ran it: `backups`, `--pick` and `--prune --apply` processes.
    await expectGood('no-data', id, { omit: [`${id}.txt`] }, /missing/, true);
  });

  it('one of its files is missing from the store', async () => {
    const id = recent();
    await expectGood('one-missing', id, { files: { 'a.txt': 'a', 'b.txt': 'b' }, omit: ['b.txt'] }, /files\/b\.txt.*missing/);
  });

  it('a file has another size than its manifest records', async () => {
    const id = recent();
    await expectGood(
      'wrong-size',
      id,
      {
        edit: (manifest) => {
          manifest.files[0]!.bytes = 3;
        },
      },
      /size|bytes/,
    );
  });

  it('it is dated 2031 (a skewed clock): the issue', async () => {
    await expectGood('future-2031', '2031-01-01T020000Z', {}, /future/);
  });

  it('it is dated an hour ahead, beyond the allowed skew', async () => {
    await expectGood('future-hour', formatBackupId(new Date(Date.now() + hour)), {}, /future/);
  });

  it('its manifest does not parse: the restore falls back to the older trusted backup and says so', async () => {
    const id = recent();
    const result = await expectGood('unparseable', id, { manifestText: '{"format": "runbook-backup/1", "files": [' }, /parse/);
    expect(result.restore.run.stdout + result.restore.run.stderr).toMatch(new RegExp(`${id}.*not trusted|skipp`));
  });

  it('its manifest is JSON but not a manifest (no kind, files not a list)', async () => {
    await expectGood('wrong-shape', recent(), { manifestText: '{"files": {"name": "x"}}' }, /manifest/);
  });

  it('its manifest names another backup (an older manifest copied into a newer folder)', async () => {
    const id = recent();
    await expectGood(
      'other-id',
      id,
      {
        edit: (manifest) => {
          manifest.id = '2020-01-01T000000Z';
        },
      },
      /2020-01-01T000000Z/,
    );
  });

  it('a name in its manifest leaves the backup folder', async () => {
    await expectGood(
      'escaping',
      recent(),
      {
        extra: { 'x.txt': 'x' },
        edit: (manifest) => {
          manifest.files.push({
            name: 'files/../x.txt',
            bytes: 1,
            sha256: '2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881',
          });
        },
      },
      /unsafe|\.\./,
    );
  });

  it('a prune marked it for deletion (its manifest still there)', async () => {
    await expectGood('marked', recent(), { extra: { '.pruning': 'marked\n' } }, /prun/);
  });
});

describe.concurrent('names that are not backup ids', () => {
  const id = () => formatBackupId(new Date(Date.now() - 2 * day));
  for (const name of ['latest', '2026-02-30T020000Z', '2026-11-30T120000Z-evil', '9999-12-31T235960Z']) {
    it(`a complete folder named ${name} is not a backup, and is refused as an explicit id`, async () => {
      const dest = join(root, `name-${name}`, 'dest');
      const good = id();
      writeFilesBackup(dest, good);
      writeFilesBackup(dest, name);
      const report = await inspectBackups(dest, { signatures: { allowUnsigned: true } });
      expect(report.newest).toBe(good);
      expect(report.ignored).toEqual([name]);
      expect((await pickBackup(dest, 'latest', { signatures: { allowUnsigned: true } })).id).toBe(good);
      if (name === 'latest') return;
      const explicit = await runCli(['backups', dest, '--pick', name, '--allow-unsigned', '--manifest-to', join(dest, '..', 'm')]);
      expect(explicit.code).toBe(1);
      expect(explicit.stderr).toMatch(/not a backup id/);
      const target = join(dest, '..', 'target');
      const restore = await runStep(
        filesRestore.expand({ from: dest, to: target, backup: name, allow_unsigned: true }, context),
        join(dest, '..'),
        {},
        { verify: false },
      );
      expect(restore.run.code).not.toBe(0);
      expect(restore.run.stderr).toMatch(/not a backup id/);
      expect(existsSync(target) ? readdirSync(target) : []).toEqual([]);
    });
  }
});

describe('an explicit id that is untrusted is refused, naming why', () => {
  it('a complete folder with a missing file, asked for by name', async () => {
    const id = recent();
    const { dest } = setUp('explicit-missing', id, { omit: [`${id}.txt`] });
    const picked = await runCli(['backups', dest, '--pick', id, '--allow-unsigned', '--manifest-to', join(root, 'explicit-missing', 'm')]);
    expect(picked.code).toBe(1);
    expect(picked.stderr).toMatch(new RegExp(`${id} is not trusted: .*missing`));
  });

  it('nothing trusted at all: exit 1 with a clear message', async () => {
    const dest = join(root, 'nothing', 'dest');
    writeFilesBackup(dest, recent(), { manifestText: 'nope' });
    const picked = await runCli(['backups', dest, '--pick', 'latest', '--allow-unsigned', '--manifest-to', join(root, 'nothing', 'm')]);
    expect(picked.code).toBe(1);
    expect(picked.stderr).toMatch(/no trusted complete backup/);
    writeFileSync(join(root, 'nothing', 'unused'), '');
  });
});
