import { createHash } from 'node:crypto';
import { readFile, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DAM_DERIVATIVES, hashTree, seedDam, seedFiles } from '../../tools/stack/files.js';

describe('seedFiles and hashTree', () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'stack-files-'));
  });
  afterAll(() => rm(root, { recursive: true, force: true }));

  it('writes deterministic, incompressible files with awkward names that hashTree reads back', async () => {
    const seeded = await seedFiles({ dir: join(root, 'a'), files: 25, bytes: 400_000 });
    const paths = Object.keys(seeded);
    expect(paths).toHaveLength(25);
    expect(paths.some((p) => / /.test(p))).toBe(true);
    expect(paths.some((p) => /[^\x00-\x7f]/.test(p))).toBe(true);
    expect(paths.some((p) => p.split('/').length >= 4)).toBe(true);
    const sizes = await Promise.all(paths.map(async (path) => (await stat(join(root, 'a', path))).size));
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(400_000);
    expect(new Set(sizes).size).toBeGreaterThan(10);
    const [firstPath] = paths;
    expect(seeded[firstPath!]).toBe(createHash('sha256').update('').digest('hex'));
    const biggest = paths[sizes.indexOf(Math.max(...sizes))]!;
    const data = await readFile(join(root, 'a', biggest));
    expect(gzipSync(data).length).toBeGreaterThan(data.length * 0.95);

    expect(await hashTree(join(root, 'a'))).toEqual(seeded);
    expect(await seedFiles({ dir: join(root, 'b'), files: 25, bytes: 400_000 })).toEqual(seeded);
    expect(await seedFiles({ dir: join(root, 'c'), files: 25, bytes: 400_000, seed: 'other' })).not.toEqual(seeded);
  });

  it('notices a changed byte and honours exclude; a missing folder is empty', async () => {
    const dir = join(root, 'd');
    const seeded = await seedFiles({ dir, files: 6, bytes: 6_000 });
    const victim = Object.keys(seeded)[3]!;
    const data = await readFile(join(dir, victim));
    data[0] = (data[0] ?? 0) ^ 1;
    await writeFile(join(dir, victim), data);
    const after = await hashTree(dir);
    expect(after[victim]).not.toBe(seeded[victim]);
    expect(Object.keys(await hashTree(dir, { exclude: /^avatars\// })).every((p) => !p.startsWith('avatars/'))).toBe(true);
    expect(await hashTree(join(root, 'missing'))).toEqual({});
  });

  it('seeds a DAM tree whose derivatives are excluded by DAM_DERIVATIVES', async () => {
    const dir = join(root, 'dam');
    const dam = await seedDam({ dir, files: 8, bytes: 80_000 });
    expect(Object.keys(dam.originals).every((p) => p.startsWith('originals/'))).toBe(true);
    expect(Object.keys(dam.derivatives)).toHaveLength(8);
    expect(await hashTree(dir)).toEqual({ ...dam.originals, ...dam.derivatives });
    expect(await hashTree(dir, { exclude: DAM_DERIVATIVES })).toEqual(dam.originals);
  });
});
