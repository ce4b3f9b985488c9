// Gitea-like bare repositories (`DIR/OWNER/REPO.git`) with known refs, built deterministically.
import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { runCommand } from './run.js';

/** Options of {@link createBareRepositories}. */
export interface CreateBareRepositoriesOptions {
  /** Gitea's repository root; repositories go to `DIR/OWNER/REPO.git`. Created if missing. */
  dir: string;
  /** Number of repositories. @default 3 */
  count?: number;
  /** Branches per repository besides `main`. @default 2 */
  branches?: number;
  /** Tags per repository (annotated and lightweight alternate). @default 2 */
  tags?: number;
  /** Commits on `main`; each extra branch adds two of its own. @default 5 */
  commits?: number;
}

/** Refs of one repository: full ref name (`refs/heads/main`, `refs/tags/v1.0.0`) → object id. */
export type RefMap = Record<string, string>;

const OWNERS = ['alice', 'bob', 'infra'] as const;
const NAMES = ['website', 'api', 'docs', 'tools', 'infra-config', 'mobile'] as const;

/** Fixed identity and epoch so the same options always give the same object ids. */
const BASE_EPOCH = 1_700_000_000;
const GIT_ENV = {
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_AUTHOR_NAME: 'Runbook Seed',
  GIT_AUTHOR_EMAIL: 'seed@example.test',
  GIT_COMMITTER_NAME: 'Runbook Seed',
  GIT_COMMITTER_EMAIL: 'seed@example.test',
};

/** Runs git with no system or global configuration and a fixed identity. */
export const git = (args: string[], input?: string) => runCommand('git', args, { env: GIT_ENV, input });

/** Repository i's name, `owner/repo` — the key of the returned maps. */
const repositoryName = (i: number): string => {
  const owner = OWNERS[i % OWNERS.length];
  const base = NAMES[i % NAMES.length];
  const round = Math.floor(i / NAMES.length);
  return `${owner}/${round ? `${base}-${round}` : base}`;
};

/** A `git fast-import` stream: main, branches forking from main, then tags. */
const fastImportStream = (repo: string, { branches, tags, commits }: Required<Omit<CreateBareRepositoriesOptions, 'dir' | 'count'>>) => {
  const lines: string[] = [];
  let mark = 0;
  let clock = BASE_EPOCH;
  const who = () => `Runbook Seed <seed@example.test> ${(clock += 60)} +0000`;
  const commit = (ref: string, message: string, files: Record<string, string>, parent?: number) => {
    mark += 1;
    lines.push(`commit ${ref}`, `mark :${mark}`, `author ${who()}`, `committer ${who()}`);
    const msg = Buffer.from(`${message}\n`, 'utf8');
    lines.push(`data ${msg.length}`, msg.toString('utf8'));
    if (parent) lines.push(`from :${parent}`);
    for (const [path, content] of Object.entries(files)) {
      const data = Buffer.from(content, 'utf8');
      lines.push(`M 100644 inline ${path}`, `data ${data.length}`, content);
    }
    return mark;
  };

  const mainMarks: number[] = [];
  for (let c = 1; c <= Math.max(1, commits); c++) {
    const files: Record<string, string> = { [`src/module-${c}.txt`]: `${repo} module ${c}\n`.repeat(c) };
    if (c === 1) files['README.md'] = `# ${repo}\n\nSeeded by the runbook test harness — ünïcödé included.\n`;
    mainMarks.push(commit('refs/heads/main', `${repo}: change ${c} on main`, files, mainMarks.at(-1)));
  }
  for (let b = 1; b <= branches; b++) {
    const fork = mainMarks[(b - 1) % mainMarks.length];
    const first = commit(`refs/heads/feature/${b}`, `feature ${b}: start`, { [`feature-${b}.txt`]: `feature ${b} of ${repo}\n` }, fork);
    commit(`refs/heads/feature/${b}`, `feature ${b}: continue`, { [`feature-${b}.txt`]: `feature ${b} of ${repo}, continued\n` }, first);
  }
  for (let t = 1; t <= tags; t++) {
    const target = mainMarks[Math.min(mainMarks.length - 1, t - 1)];
    if (t % 2 === 1) {
      const msg = `release v1.${t - 1}.0\n`;
      lines.push(`tag v1.${t - 1}.0`, `from :${target}`, `tagger ${who()}`, `data ${Buffer.byteLength(msg)}`, msg);
    } else {
      lines.push(`reset refs/tags/v1.${t - 1}.0`, `from :${target}`, '');
    }
  }
  lines.push('done', '');
  return lines.join('\n');
};

/** Every ref of a repository (bare or not), as `refname → object id` (annotated tags give the tag object). */
export const listRefs = async (repoPath: string): Promise<RefMap> => {
  const { stdout } = await git(['-C', repoPath, 'for-each-ref', '--format=%(refname) %(objectname)']);
  const refs: RefMap = {};
  for (const line of stdout.split('\n')) {
    const [ref, sha] = line.split(' ');
    if (ref && sha) refs[ref] = sha;
  }
  return refs;
};

/**
 * Creates `count` bare repositories under `dir` with `main`, `feature/N` branches and `v1.N.0`
 * tags, built with `git fast-import` at fixed dates so the object ids are the same on every run.
 * Returns `owner/repo → refs`.
 */
export const createBareRepositories = async ({
  dir,
  count = 3,
  branches = 2,
  tags = 2,
  commits = 5,
}: CreateBareRepositoriesOptions): Promise<Record<string, RefMap>> => {
  const names = Array.from({ length: count }, (_, i) => repositoryName(i));
  const entries = await Promise.all(
    names.map(async (name) => {
      const path = join(dir, `${name}.git`);
      await mkdir(path, { recursive: true });
      await git(['init', '--quiet', '--bare', '--initial-branch=main', path]);
      await git(['-C', path, 'fast-import', '--quiet', '--done'], fastImportStream(name, { branches, tags, commits }));
      return [name, await listRefs(path)] as const;
    }),
  );
  return Object.fromEntries(entries);
};

/** Every bare repository under a Gitea-like root, as `owner/repo → refs` (to compare after a restore). */
export const listRepositories = async (dir: string): Promise<Record<string, RefMap>> => {
  const result: Record<string, RefMap> = {};
  for (const owner of (await readdir(dir, { withFileTypes: true }))
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort()) {
    for (const repo of (await readdir(join(dir, owner))).filter((name) => name.endsWith('.git')).sort()) {
      result[`${owner}/${repo.slice(0, -'.git'.length)}`] = await listRefs(join(dir, owner, repo));
    }
  }
  return result;
};
