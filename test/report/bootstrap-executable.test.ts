// RECOVERY.md's two commands that bring the tool to a bare server install only the executable the
// backups' key vouched for: the blocks as the document prints them for the shipped recovery (its
// bucket a local folder, as rclone takes one), run in a strict bash against a stored executable,
// its checksum and their signature — then against each way a bucket writer could swap them.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { renderDocs } from '../../src/report/docs.js';
import { findSystemBinary } from '../../tools/stack/run.js';
import { repository } from '../helpers/cli.js';
import { sha256 } from '../helpers/manifest.js';

const root = mkdtempSync(join(tmpdir(), 'runbook-bootstrap-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const keyPair = (name: string) => {
  const key = join(root, name);
  execFileSync(findSystemBinary('ssh-keygen', 'openssh-client'), ['-q', '-t', 'ed25519', '-N', '', '-C', name, '-f', key]);
  return { key, publicKey: readFileSync(`${key}.pub`, 'utf8').trim() };
};
const backups = keyPair('backup-signing-key');
const stranger = keyPair('stranger-key');

const sign = (key: string, file: string, namespace = 'runbook-backup') =>
  execFileSync('ssh-keygen', ['-q', '-Y', 'sign', '-f', key, '-n', namespace, file]);

const original = Buffer.concat([Buffer.from('\x7fELF'), Buffer.alloc(4096, 7)]);
const forged = Buffer.concat([Buffer.from('\x7fELF'), Buffer.alloc(4096, 9)]);

/** A bucket folder as backup-config leaves it: the executable, its checksum, their signature. */
const storeExecutable = (bucket: string, executable = original, key = backups.key) => {
  const folder = join(bucket, 'runbook');
  rmSync(folder, { recursive: true, force: true });
  mkdirSync(folder, { recursive: true });
  writeFileSync(join(folder, 'runbook-linux-x64'), executable);
  writeFileSync(join(folder, 'runbook-linux-x64.sha256'), `${sha256(executable)}  runbook-linux-x64\n`);
  sign(key, join(folder, 'runbook-linux-x64.sha256'));
  return folder;
};

/** The document's bash blocks up to the tool's installation: the values, then the two commands. */
const bootstrapBlocks = (bucket: string, installed: string): string => {
  const markdown = renderDocs([join(repository, 'runbooks', 'recover-full.yaml')], {
    env: 'production',
    vars: { backup_remote: bucket, runbook_executable: installed, backup_public_key: backups.publicKey },
    processEnv: {},
  });
  const blocks = [...markdown.matchAll(/^```bash\n([\s\S]*?)^```$/gm)].map((match) => match[1]!);
  expect(blocks[1]).toContain('sha256sum --check --strict runbook-linux-x64.sha256');
  return blocks.slice(0, 2).join('\n');
};

const bootstrap = (name: string, tamper: (folder: string) => void) => {
  const bucket = join(root, name, 'bucket');
  const installed = join(root, name, 'server', 'usr', 'local', 'bin', 'runbook');
  tamper(storeExecutable(bucket));
  const script = join(root, name, 'bootstrap.sh');
  writeFileSync(script, bootstrapBlocks(bucket, installed));
  const run = spawnSync('bash', ['-euo', 'pipefail', script], { encoding: 'utf8', env: { ...process.env, TMPDIR: root } });
  return { code: run.status, output: run.stdout + run.stderr, installed };
};

describe("RECOVERY.md's bootstrap of the executable", () => {
  it('installs the stored executable when its signature and checksum hold', () => {
    const { code, output, installed } = bootstrap('good', () => {});
    expect(code, output).toBe(0);
    expect(output).toContain('runbook-linux-x64: OK');
    expect(readFileSync(installed).equals(original)).toBe(true);
  });

  const refused: [string, (folder: string) => void][] = [
    ['the executable was replaced after its checksum', (folder) => writeFileSync(join(folder, 'runbook-linux-x64'), forged)],
    [
      'the executable and its checksum were replaced together',
      (folder) => {
        writeFileSync(join(folder, 'runbook-linux-x64'), forged);
        writeFileSync(join(folder, 'runbook-linux-x64.sha256'), `${sha256(forged)}  runbook-linux-x64\n`);
      },
    ],
    ['the signature is missing', (folder) => rmSync(join(folder, 'runbook-linux-x64.sha256.sig'))],
    [
      'another key signed the forged checksum',
      (folder) => {
        writeFileSync(join(folder, 'runbook-linux-x64'), forged);
        writeFileSync(join(folder, 'runbook-linux-x64.sha256'), `${sha256(forged)}  runbook-linux-x64\n`);
        rmSync(join(folder, 'runbook-linux-x64.sha256.sig'));
        sign(stranger.key, join(folder, 'runbook-linux-x64.sha256'));
      },
    ],
    [
      "the backups' key signed it for another purpose (namespace)",
      (folder) => {
        writeFileSync(join(folder, 'runbook-linux-x64'), forged);
        writeFileSync(join(folder, 'runbook-linux-x64.sha256'), `${sha256(forged)}  runbook-linux-x64\n`);
        rmSync(join(folder, 'runbook-linux-x64.sha256.sig'));
        sign(backups.key, join(folder, 'runbook-linux-x64.sha256'), 'file');
      },
    ],
    [
      'the checksum file names no file',
      (folder) => {
        writeFileSync(join(folder, 'runbook-linux-x64'), forged);
        writeFileSync(join(folder, 'runbook-linux-x64.sha256'), '\n');
        rmSync(join(folder, 'runbook-linux-x64.sha256.sig'));
        sign(backups.key, join(folder, 'runbook-linux-x64.sha256'), 'file');
      },
    ],
    ['the executable is missing', (folder) => rmSync(join(folder, 'runbook-linux-x64'))],
  ];
  it.each(refused)('installs nothing when %s', (name, tamper) => {
    const { code, output, installed } = bootstrap(name.replace(/\W+/g, '-'), tamper);
    expect(code, output).not.toBe(0);
    expect(existsSync(installed)).toBe(false);
  });
});
