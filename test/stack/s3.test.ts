import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findSystemBinary, isAlive, runCommand, systemPath } from '../../tools/stack/run.js';
import { startS3, type S3Server } from '../../tools/stack/s3.js';

describe('startS3', () => {
  let root: string;
  let s3: S3Server;
  const rclone = (args: string[], remote = 'backup') =>
    // rclone 1.60's S3 backend fails when AWS_CA_BUNDLE is set (docs/design.md §8).
    runCommand(findSystemBinary('rclone'), args, {
      env: { ...s3.rcloneEnv(remote), AWS_CA_BUNDLE: undefined, RCLONE_CONFIG: '/dev/null' },
    });

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'stack-s3-'));
    s3 = await startS3({ root });
  });
  afterAll(async () => {
    await s3?.stop();
    await rm(root, { recursive: true, force: true });
  });

  it('describes the endpoint and the rclone remote', () => {
    expect(s3.endpoint).toBe(`http://127.0.0.1:${s3.port}`);
    expect(s3.bucket).toBe('backups');
    expect(s3.remotePath('a/b.txt')).toBe('backup:backups/a/b.txt');
    expect(s3.rcloneEnv('offsite')).toMatchObject({
      RCLONE_CONFIG_OFFSITE_TYPE: 's3',
      RCLONE_CONFIG_OFFSITE_PROVIDER: 'Other',
      RCLONE_CONFIG_OFFSITE_ENDPOINT: s3.endpoint,
      RCLONE_CONFIG_OFFSITE_FORCE_PATH_STYLE: 'true',
    });
  });

  it('defines a working remote under any name', async () => {
    expect(JSON.parse((await rclone(['lsjson', 'offsite:backups'], 'offsite')).stdout)).toEqual([]);
    await expect(rclone(['lsjson', 'offsite:no-such-bucket'], 'offsite')).rejects.toThrow(/NoSuchBucket|not found/i);
  });

  it('serves rclone copyto, lsjson, cat and check --download; corruption is detected', async () => {
    const local = join(root, 'small.txt');
    await writeFile(local, 'hello from the runbook harness\n');
    await rclone(['copyto', local, s3.remotePath('dir one/small.txt')]);
    const listing = JSON.parse((await rclone(['lsjson', '-R', s3.remotePath('')])).stdout) as { Path: string; Size: number }[];
    expect(listing.find((entry) => entry.Path === 'dir one/small.txt')?.Size).toBe(31);
    expect((await rclone(['cat', s3.remotePath('dir one/small.txt')])).stdout).toBe('hello from the runbook harness\n');

    expect(existsSync(s3.objectFile('dir one/small.txt'))).toBe(true);
    await rclone(['check', '--download', local, s3.remotePath('dir one')]);
    await writeFile(s3.objectFile('dir one/small.txt'), 'hello from the runbook harnesX\n');
    await expect(rclone(['check', '--download', local, s3.remotePath('dir one')])).rejects.toThrow(/differences found|ERROR/);
  });

  it('accepts a multipart upload that reads back byte for byte', async () => {
    const big = randomBytes(12 * 1024 * 1024);
    const local = join(root, 'big.bin');
    await writeFile(local, big);
    // --dump headers shows the requests: three parts prove rclone really used a multipart upload.
    const upload = await rclone([
      'copyto',
      '-vv',
      '--dump',
      'headers',
      '--s3-upload-cutoff',
      '5M',
      '--s3-chunk-size',
      '5M',
      local,
      s3.remotePath('multi/big.bin'),
    ]);
    expect(upload.stderr).toMatch(/PUT \/backups\/multi\/big\.bin\?partNumber=3&uploadId=/);
    expect(upload.stderr).not.toMatch(/partNumber=4/);
    const stored = await readFile(s3.objectFile('multi/big.bin'));
    const sha = (data: Buffer) => createHash('sha256').update(data).digest('hex');
    expect(sha(stored)).toBe(sha(big));
    const { stdout } = await runCommand('bash', ['-c', `rclone cat ${s3.remotePath('multi/big.bin')} | sha256sum`], {
      env: { ...s3.rcloneEnv(), AWS_CA_BUNDLE: undefined, PATH: systemPath() },
    });
    expect(stdout.split(' ')[0]).toBe(sha(big));
  });

  it('stops by PID', async () => {
    const other = await startS3({ root: join(root), bucket: 'second' });
    expect(isAlive(other.pid)).toBe(true);
    await other.stop();
    expect(isAlive(other.pid)).toBe(false);
  });
});
