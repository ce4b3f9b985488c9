// File trees with known checksums: Supabase storage buckets and DAM originals/derivatives.
import { createCipheriv, createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';

/** `relative/path → sha256 hex`, paths with `/` separators. */
export type FileHashes = Record<string, string>;

/** Options of {@link seedFiles}. */
export interface SeedFilesOptions {
  /** Folder to fill (created if missing). */
  dir: string;
  /** Number of files. */
  files: number;
  /** Total bytes over all files (sizes vary per file; the first file is empty). */
  bytes: number;
  /** Changes every file's content and size pattern; the same seed gives the same tree. @default 'files' */
  seed?: string;
  /** Top-level folders the files are spread over. @default ['avatars', 'documents', 'public media'] */
  folders?: readonly string[];
}

const NAME_PARTS = ['report', 'Überblick', 'photo', 'café menu', 'naïve', 'data', '日本語', 'invoice 2024', 'résumé', 'plan'] as const;
const EXTENSIONS = ['.pdf', '.png', '.txt', '.jpg', '.json', '.bin'] as const;

/** Deterministic pseudo-random bytes: AES-CTR over zeros keyed by the seed (fast, and does not compress). */
const pseudoRandom = (seed: string, index: number, length: number): Buffer => {
  const key = createHash('sha256').update(`${seed}/${index}`).digest();
  const cipher = createCipheriv('aes-256-ctr', key, Buffer.alloc(16));
  return Buffer.concat([cipher.update(Buffer.alloc(length)), cipher.final()]);
};

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

/** Splits `total` into `count` deterministic, varying sizes that add up exactly (the first is 0). */
const fileSizes = (count: number, total: number, seed: string): number[] => {
  if (count <= 0) return [];
  const weights = pseudoRandom(`${seed}/sizes`, 0, count * 2);
  const w = Array.from({ length: count }, (_, i) => (i === 0 ? 0 : 1 + weights.readUInt16LE(i * 2)));
  const sum = w.reduce((a, b) => a + b, 0) || 1;
  const sizes = w.map((x) => Math.floor((x * total) / sum));
  const rest = total - sizes.reduce((a, b) => a + b, 0);
  sizes[count - 1] = (sizes[count - 1] ?? 0) + rest;
  return sizes;
};

/** File i's relative path: nested folders, some names with spaces and non-ASCII letters. */
const filePath = (i: number, folders: readonly string[]): string => {
  const top = folders[i % folders.length] ?? 'files';
  const year = 2020 + (i % 5);
  const part = NAME_PARTS[i % NAME_PARTS.length];
  const ext = EXTENSIONS[i % EXTENSIONS.length];
  const depth = i % 3; // 0, 1 or 2 levels below the year folder
  const nested =
    depth === 0
      ? []
      : depth === 1
        ? [`month ${String((i % 12) + 1).padStart(2, '0')}`]
        : [`month ${String((i % 12) + 1).padStart(2, '0')}`, 'sub-ordner'];
  return [top, String(year), ...nested, `${part} ${String(i).padStart(4, '0')}${ext}`].join('/');
};

/**
 * Writes `files` deterministic pseudo-random files into `dir` (nested folders; names with spaces and
 * non-ASCII letters; one empty file) totalling `bytes`, and returns their sha256 by relative path.
 */
export const seedFiles = async ({
  dir,
  files,
  bytes,
  seed = 'files',
  folders = ['avatars', 'documents', 'public media'],
}: SeedFilesOptions): Promise<FileHashes> => {
  const sizes = fileSizes(files, bytes, seed);
  const hashes: FileHashes = {};
  for (let i = 0; i < files; i++) {
    const path = filePath(i, folders);
    const data = pseudoRandom(seed, i, sizes[i] ?? 0);
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), data);
    hashes[path] = sha256(data);
  }
  return hashes;
};

/** sha256 of a file's content, streamed. */
export const hashFile = (path: string): Promise<string> =>
  new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(path)
      .on('data', (chunk) => hash.update(chunk))
      .on('error', reject)
      .on('end', () => resolve(hash.digest('hex')));
  });

/** Options of {@link hashTree}. */
export interface HashTreeOptions {
  /** Relative paths (with `/`) matching this are left out, e.g. `/^derivatives\//`. @default none */
  exclude?: RegExp;
}

/** sha256 of every regular file under `dir`, keyed by relative path with `/`; a missing `dir` gives `{}`. */
export const hashTree = async (dir: string, { exclude }: HashTreeOptions = {}): Promise<FileHashes> => {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return [];
    throw error;
  });
  const hashes: FileHashes = {};
  const paths = entries
    .filter((entry) => entry.isFile())
    .map((entry) =>
      relative(dir, join(entry.parentPath ?? entry.path, entry.name))
        .split(sep)
        .join('/'),
    )
    .filter((path) => !exclude?.test(path))
    .sort();
  for (const path of paths) hashes[path] = await hashFile(join(dir, path));
  return hashes;
};

/** Options of {@link seedDam}. */
export interface SeedDamOptions {
  /** The DAM's data folder; gets `originals/` and `derivatives/`. */
  dir: string;
  /** Number of original files. */
  files: number;
  /** Total bytes of the originals (each derivative is about 1/16 of its original). */
  bytes: number;
}

/** What {@link seedDam} wrote, with paths relative to `dir` (`originals/…`, `derivatives/…`). */
export interface DamFiles {
  /** Backed up: the originals. */
  originals: FileHashes;
  /** Not backed up: thumbnails that the DAM regenerates. */
  derivatives: FileHashes;
}

/** Matches the DAM's derivatives, which a backup leaves out. */
export const DAM_DERIVATIVES = /^derivatives\//;

/** Seeds a DAM tree: `originals/…` (backed up) and one `derivatives/….thumb.jpg` per original (not backed up). */
export const seedDam = async ({ dir, files, bytes }: SeedDamOptions): Promise<DamFiles> => {
  const originals = await seedFiles({
    dir: join(dir, 'originals'),
    files,
    bytes,
    seed: 'dam',
    folders: ['campaigns', 'product shots', 'brand'],
  });
  const derivatives: FileHashes = {};
  let i = 0;
  for (const path of Object.keys(originals)) {
    const thumb = `${path}.thumb.jpg`;
    const data = pseudoRandom('dam-thumb', i++, (256 + bytes / Math.max(1, files) / 16) | 0);
    await mkdir(dirname(join(dir, 'derivatives', thumb)), { recursive: true });
    await writeFile(join(dir, 'derivatives', thumb), data);
    derivatives[`derivatives/${thumb}`] = sha256(data);
  }
  const prefixed = Object.fromEntries(Object.entries(originals).map(([path, sha]) => [`originals/${path}`, sha]));
  return { originals: prefixed, derivatives };
};

/** Gitea's configuration as a Docker install writes it to /data/gitea/conf/app.ini. */
export const GITEA_APP_INI = `APP_NAME = Gitea: Git with a cup of tea
RUN_MODE = prod
RUN_USER = git

[repository]
ROOT = /data/git/repositories

[database]
DB_TYPE = postgres
HOST = gitea-db:5432
NAME = gitea
USER = gitea
PASSWD = test-gitea

[security]
INSTALL_LOCK = true
SECRET_KEY = 0123456789abcdef0123456789abcdef
INTERNAL_TOKEN = eyJhbGciOiJIUzI1NiJ9.test.signature

[server]
ROOT_URL = https://git.example.com/
SSH_DOMAIN = git.example.com
`;

/** Gitea's own data folder (the volume's `gitea/`): conf/app.ini (0640) and a few attachments. */
export const seedGiteaData = async (dir: string): Promise<FileHashes> => {
  await mkdir(join(dir, 'conf'), { recursive: true });
  await writeFile(join(dir, 'conf', 'app.ini'), GITEA_APP_INI, { mode: 0o640 });
  const attachments = await seedFiles({
    dir: join(dir, 'attachments'),
    files: 20,
    bytes: 200_000,
    seed: 'attachments',
    folders: ['a', 'b'],
  });
  const hashes: FileHashes = { 'conf/app.ini': sha256(Buffer.from(GITEA_APP_INI)) };
  for (const [path, hash] of Object.entries(attachments)) hashes[`attachments/${path}`] = hash;
  return hashes;
};
