// The trust side of the signing contract: a manifest signed with `ssh-keygen -Y sign -n
// runbook-backup` by a key whose public line is among the signers is trusted; an unsigned one, one
// signed by another key, under another namespace, or changed after signing is not — for `backups`,
// `--pick` and a restore's `latest` alike — unless unsigned backups are explicitly allowed.
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { filesRestore } from '../../src/actions/files.restore/index.js';
import { formatBackupId } from '../../src/backup/id.js';
import { inspectBackups } from '../../src/backup/inspect.js';
import { pickBackup } from '../../src/backup/pick.js';
import { EXAMPLE_SIGNER, parseSigners } from '../../src/backup/signature.js';
import { expectBuilt, runCli } from '../helpers/cli.js';
import { requireBinaries, runStep } from './shell.js';
import { generateKey, writeFilesBackup, type FilesBackupOptions } from './trust-fixture.js';

const hour = 3_600_000;
const context = { runbook: 'trust', stepId: 'restore', secrets: [] };

let root: string;
let trusted: { key: string; publicLine: string };
let stranger: { key: string; publicLine: string };
let signers: string;
beforeAll(() => {
  requireBinaries('rclone', 'jq', 'sha256sum', 'ssh-keygen');
  expectBuilt('cli/backups.js');
  root = mkdtempSync(join(tmpdir(), 'signature-'));
  trusted = generateKey(root, 'server');
  stranger = generateKey(root, 'stranger');
  signers = join(root, 'signers.pub');
  // A comment and a blank line around the trusted key: a file as people keep it.
  writeFileSync(signers, `# backup signing key of the server\n\n${trusted.publicLine}\n`);
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** An older signed backup and the case's newer one. */
const setUp = (name: string, newer: FilesBackupOptions, after?: (dest: string, id: string) => void) => {
  const dest = join(root, name, 'dest');
  const good = formatBackupId(new Date(Date.now() - 3 * hour));
  const newest = formatBackupId(new Date(Date.now() - hour));
  writeFilesBackup(dest, good, { signWith: trusted.key });
  writeFilesBackup(dest, newest, newer);
  after?.(dest, newest);
  return { dest, good, newest };
};

/** files.restore of `latest`; its verification (which checks trust again) only when asked. */
const restore = (name: string, dest: string, input: Record<string, unknown>, verify = false) => {
  const target = join(root, name, `target-${Math.random().toString(36).slice(2)}`);
  mkdirSync(target, { recursive: true });
  return runStep(
    filesRestore.expand({ from: dest, to: target, backup: 'latest', ...input }, context),
    join(root, name),
    {},
    { verify },
  ).then((result) => ({
    ...result,
    files: readdirSync(target),
  }));
};

/** The trusted keys as `--signers` reads them. */
const signatures = () => ({ signers: parseSigners(readFileSync(signers, 'utf8'), 'signers') });

/** `backups`' newest, in process (the CLI is driven by the restores and the cases below). */
const newestOf = async (dest: string) => (await inspectBackups(dest, { signatures: signatures() })).newest;

const pick = (dest: string, ...flags: string[]) =>
  runCli(['backups', dest, '--pick', 'latest', ...flags, '--manifest-to', join(dest, '..', 'm')]);

describe.concurrent('signed manifests', () => {
  it('a signed newest backup is trusted by backups, --pick and the restore', async () => {
    const { dest, newest } = setUp('signed', { signWith: trusted.key });
    expect(await newestOf(dest)).toBe(newest);
    expect((await pick(dest, '--signers', signers)).stdout.trim()).toBe(newest);
    const restored = await restore('signed', dest, { signers: readFileSync(signers, 'utf8') }, true);
    expect(restored.run.code, restored.run.stderr).toBe(0);
    expect(restored.verify?.code, restored.verify?.stderr).toBe(0);
    expect(restored.files).toEqual([`${newest}.txt`]);
    // --verify re-hashes and checks the signature too.
    const verified = await runCli(['backups', dest, '--verify', '--signers', signers]);
    expect(verified.code, verified.stdout + verified.stderr).toBe(0);
  });

  const untrusted: [string, () => FilesBackupOptions, ((dest: string, id: string) => void)?][] = [
    ['unsigned', () => ({})],
    ['signed by a key that is not among the signers', () => ({ signWith: stranger.key })],
    ['changed after it was signed', () => ({ signWith: trusted.key }), (dest, id) => appendFileSync(join(dest, id, 'manifest.json'), ' ')],
    [
      'signed under another namespace',
      () => ({}),
      (dest, id) => {
        execFileSync('ssh-keygen', ['-Y', 'sign', '-f', trusted.key, '-n', 'file', join(dest, id, 'manifest.json')], { stdio: 'ignore' });
      },
    ],
    [
      'a signature that is not one',
      () => ({ extra: { 'manifest.json.sig': '-----BEGIN SSH SIGNATURE-----\nAAAA\n-----END SSH SIGNATURE-----\n' } }),
    ],
  ];
  for (const [what, options, after] of untrusted) {
    it(`a newest backup ${what} is not trusted with --signers; the restore takes the older signed one`, async () => {
      const name = what.replace(/\W+/g, '-');
      const { dest, good } = setUp(name, options(), after);
      expect(await newestOf(dest)).toBe(good);
      expect((await pickBackup(dest, 'latest', { signatures: signatures() })).id).toBe(good);
      const restored = await restore(name, dest, { signers: readFileSync(signers, 'utf8') });
      expect(restored.run.code, restored.run.stderr).toBe(0);
      expect(restored.outputs.backup).toBe(good);
      expect(restored.files).toEqual([`${good}.txt`]);
      const verified = await inspectBackups(dest, { verify: true, signatures: signatures() });
      expect(verified.problems.join('\n')).toMatch(new RegExp(`${verified.backups[1]!.id} is not trusted: .*sign`));
    });
  }

  it('allow_unsigned takes the unsigned newest, and says so loudly', async () => {
    const { dest, newest } = setUp('allowed', {});
    const picked = await pick(dest, '--allow-unsigned');
    expect(picked.stdout.trim()).toBe(newest);
    expect(picked.stderr).toMatch(/UNSIGNED|unsigned/);
    const restored = await restore('allowed', dest, { allow_unsigned: true });
    expect(restored.run.code, restored.run.stderr).toBe(0);
    expect(restored.files).toEqual([`${newest}.txt`]);
    expect(restored.run.stdout + restored.run.stderr).toMatch(/unsigned/i);
  });

  it('without signers or allow_unsigned a restore refuses, saying what to give; --pick and --verify are usage errors', async () => {
    const { dest } = setUp('nothing-given', { signWith: trusted.key });
    const restored = await restore('nothing-given', dest, {});
    expect(restored.run.code).not.toBe(0);
    expect(restored.run.stderr).toMatch(/signers.*allow_unsigned/);
    expect(restored.files).toEqual([]);
    expect((await pick(dest)).code).toBe(2);
    const verified = await runCli(['backups', dest, '--verify']);
    expect(verified.code).toBe(2);
    expect(verified.stderr).toMatch(/--signers FILE.*--allow-unsigned/);
    expect(existsSync(dest)).toBe(true);
  });

  it('signers that hold no public key are a usage error', async () => {
    const { dest } = setUp('no-keys', { signWith: trusted.key });
    const empty = join(root, 'no-keys', 'empty.pub');
    writeFileSync(empty, '# nothing here\n');
    const picked = await pick(dest, '--signers', empty);
    expect(picked.code).toBe(2);
    expect(picked.stderr).toMatch(/no public key/);
  });

  it("the runbooks' example public key is refused, saying how to make one's own (nobody has its private key)", async () => {
    const { dest } = setUp('example-key', { signWith: trusted.key });
    const example = join(root, 'example-key', 'example.pub');
    writeFileSync(example, `${trusted.publicLine}\n${EXAMPLE_SIGNER}\n`);
    const picked = await pick(dest, '--signers', example);
    expect(picked.code).toBe(2);
    expect(picked.stderr).toMatch(/line 2 is the example public key .*ssh-keygen -t ed25519/);
    const production = readFileSync(join(import.meta.dirname, '../../runbooks/environments/production.yaml'), 'utf8');
    expect(production).toContain(EXAMPLE_SIGNER);
  });
});
