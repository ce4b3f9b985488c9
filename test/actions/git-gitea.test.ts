// git.backup and git.restore on a production-shaped Gitea: repositories owned by the git user (not
// the root that runs the backup), Gitea's hooks, description and config in each, and sources git
// cannot read. Every case here once passed as "verified" while storing nothing or restoring less.
import { chmod, chown, lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gitBackup } from '../../src/actions/git.backup/index.js';
import { gitRestore } from '../../src/actions/git.restore/index.js';
import { createBareRepositories, type RefMap } from '../../tools/stack/git.js';
import { runCommand, systemPath } from '../../tools/stack/run.js';
import { startS3, type S3Server } from '../../tools/stack/s3.js';
import { expectOk, requireBinaries, runShell, runStep } from '../backup/shell.js';

const context = { runbook: 'gitea-test', stepId: 'gitea-repos', secrets: [] };
const binDir = fileURLToPath(new URL('../../bin', import.meta.url));

/** The test's own git calls read repositories owned by other users too. */
const git = (args: string[]) => runCommand('git', ['-c', 'safe.directory=*', ...args]);

const refsOf = async (repo: string): Promise<RefMap> => {
  const { stdout } = await git(['-C', repo, 'for-each-ref', '--format=%(refname) %(objectname)']);
  return Object.fromEntries(
    stdout
      .split('\n')
      .filter(Boolean)
      .map((line) => line.split(' ') as [string, string]),
  );
};

const headOf = async (repo: string) => (await git(['-C', repo, 'symbolic-ref', 'HEAD'])).stdout.trim();

/** hooks/ (every entry), config and description: type, permission bits, owner and content. */
const metadataOf = async (repo: string): Promise<Record<string, string>> => {
  const result: Record<string, string> = {};
  const visit = async (path: string) => {
    const stat = await lstat(path).catch(() => undefined);
    if (!stat) return;
    const name = relative(repo, path);
    const bits = `${(stat.mode & 0o7777).toString(8)} ${stat.uid}:${stat.gid}`;
    if (stat.isDirectory()) {
      result[name] = `dir ${bits}`;
      for (const entry of await readdir(path)) await visit(join(path, entry));
    } else if (stat.isSymbolicLink()) result[name] = `link ${stat.uid}:${stat.gid} ${await readlink(path)}`;
    else result[name] = `file ${bits} ${await readFile(path, 'utf8')}`;
  };
  for (const name of ['hooks', 'config', 'description']) await visit(join(repo, name));
  return result;
};

/** Every file and folder of a repository whose owner is not uid:gid. */
const ownedByOthers = async (path: string, uid: number, gid: number): Promise<string[]> => {
  const stat = await lstat(path);
  const here = stat.uid === uid && stat.gid === gid ? [] : [`${path} ${stat.uid}:${stat.gid}`];
  if (!stat.isDirectory()) return here;
  const below = await Promise.all((await readdir(path)).map((entry) => ownedByOthers(join(path, entry), uid, gid)));
  return [...here, ...below.flat()];
};

/** What Gitea puts in each repository it manages: its hooks (no samples), a description, its config. */
const giteaify = async (repo: string, name: string) => {
  await rm(join(repo, 'hooks'), { recursive: true, force: true });
  for (const hook of ['pre-receive', 'update', 'post-receive']) {
    await mkdir(join(repo, 'hooks', `${hook}.d`), { recursive: true });
    await writeFile(join(repo, 'hooks', hook), `#!/usr/bin/env bash\n# ${hook} of ${name}\nexit 0\n`, { mode: 0o755 });
    await writeFile(
      join(repo, 'hooks', `${hook}.d`, 'gitea'),
      `#!/usr/bin/env bash\n"/app/gitea/gitea" hook --config=/data/gitea/conf/app.ini ${hook}\n`,
      {
        mode: 0o755,
      },
    );
    await chmod(join(repo, 'hooks', hook), 0o755);
    await chmod(join(repo, 'hooks', `${hook}.d`, 'gitea'), 0o755);
  }
  // Not executable on purpose: a restore that makes every hook 0755 is not exact.
  await writeFile(join(repo, 'hooks', 'README'), `hooks of ${name}\n`, { mode: 0o640 });
  await chmod(join(repo, 'hooks', 'README'), 0o640);
  await writeFile(join(repo, 'description'), `${name}: a Gitea repository\n`);
  await git(['-C', repo, 'config', 'gitea.test-entry', `kept for ${name}`]);
  await git(['-C', repo, 'config', 'receive.advertisePushOptions', 'true']);
};

const chownTree = (path: string, owner: string) => runCommand('chown', ['-R', owner, path]);

/** Old mtimes, as a real Gitea's repositories have: the verification tells old refs from new ones by them. */
const age = (dir: string) => runCommand('find', [dir, '-exec', 'touch', '-h', '-d', '1 hour ago', '{}', '+']);

const requireRoot = () => {
  if (process.getuid?.() !== 0) throw new Error('these tests need root: they chown repositories to other users as a Gitea runs them');
};

describe('git.backup and git.restore on a Gitea as root', () => {
  let root: string;
  let s3: S3Server;
  let gitea: string;
  let expected: Record<string, RefMap>;
  const owners: Record<string, [number, number]> = {
    'alice/website.git': [1000, 1000],
    'bob/api.git': [1001, 1002],
    'infra/docs.git': [1000, 1000],
    'alice/empty.git': [1000, 1000],
  };
  beforeAll(async () => {
    requireRoot();
    requireBinaries('git', 'rclone', 'jq', 'sha256sum', 'tar', 'chown');
    root = await mkdtemp(join(tmpdir(), 'git-gitea-'));
    s3 = await startS3({ root });
    gitea = join(root, 'gitea');
    expected = await createBareRepositories({ dir: gitea, count: 3, branches: 1, tags: 2, commits: 2 });
    await git(['init', '--quiet', '--bare', '--initial-branch=main', join(gitea, 'alice/empty.git')]);
    await git(['-C', join(gitea, 'bob/api.git'), 'symbolic-ref', 'HEAD', 'refs/heads/feature/1']);
    for (const [repo, [uid, gid]] of Object.entries(owners)) {
      await giteaify(join(gitea, repo), repo);
      await chownTree(join(gitea, repo), `${uid}:${gid}`);
    }
    // Mixed owners inside one repository: the restore gives everything the repository's owner.
    await chown(join(gitea, 'infra/docs.git', 'hooks', 'README'), 0, 0);
    await age(gitea);
  });
  afterAll(async () => {
    await s3?.stop();
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('backs up repositories owned by other users and restores refs, HEAD, hooks, config, description and owners exactly (through S3)', async () => {
    const to = s3.remotePath('git/gitea');
    const env = s3.rcloneEnv();
    const backup = await runStep(gitBackup.expand({ repositories: gitea, to }, context), root, env);
    expectOk(backup.run, 'backup');
    expectOk(backup.verify, 'backup verify');
    const manifest = JSON.parse((await runShell(`rclone cat "${to}/${backup.outputs.backup}/manifest.json"`, env)).stdout);
    for (const [name, refs] of Object.entries(expected)) expect(manifest.refs[`${name}.git`]).toMatchObject(refs);
    expect(manifest.refs['alice/empty.git']).toEqual({});
    expect(manifest.repositories['bob/api.git']).toMatchObject({ uid: 1001, gid: 1002, metadata: 'metadata/bob/api.git.tar' });
    expect(manifest.repositories['bob/api.git'].entries).toContainEqual(
      expect.objectContaining({ path: 'hooks/pre-receive.d/gitea', type: 'file', mode: '755' }),
    );

    const target = join(root, 'restored', 'repositories');
    const restore = await runStep(gitRestore.expand({ allow_unsigned: true, from: to, to: target }, context), root, env);
    expectOk(restore.run, 'restore');
    expectOk(restore.verify, 'restore verify');
    for (const [repo, [uid, gid]] of Object.entries(owners)) {
      const source = join(gitea, repo);
      const restored = join(target, repo);
      expect(await refsOf(restored), repo).toEqual(await refsOf(source));
      expect(await headOf(restored), repo).toBe(await headOf(source));
      const sourceMetadata = await metadataOf(source);
      // Owners inside the restored repository are all the repository's.
      const ownedAsRepository = Object.fromEntries(
        Object.entries(sourceMetadata).map(([name, line]) => [name, line.replace(/ \d+:\d+/, ` ${uid}:${gid}`)]),
      );
      expect(await metadataOf(restored), repo).toEqual(ownedAsRepository);
      expect(Object.keys(await metadataOf(restored)).filter((name) => name.endsWith('.sample'))).toEqual([]);
      expect(await ownedByOthers(restored, uid, gid), repo).toEqual([]);
    }
    // Folders the restore created hold their repositories' owner, so Gitea can add repositories there.
    expect((await lstat(join(target, 'bob'))).uid).toBe(1001);
    expect((await lstat(join(target, 'alice'))).uid).toBe(1000);

    // The verification sees what a bundle cannot carry.
    const verify = () => runShell(gitRestore.expand({ allow_unsigned: true, from: to, to: target }, context).verify.run, env);
    const hook = join(target, 'bob/api.git/hooks/pre-receive');
    await chmod(hook, 0o644);
    const mode = await verify();
    expect(mode.code).not.toBe(0);
    expect(mode.stderr).toMatch(/bob\/api\.git/);
    expect(mode.stdout + mode.stderr).toMatch(/hooks\/pre-receive\b/);
    await chmod(hook, 0o755);
    expectOk(await verify(), 'verify after the mode is back');
    const giteaHook = join(target, 'alice/website.git/hooks/update.d/gitea');
    const content = await readFile(giteaHook, 'utf8');
    await writeFile(giteaHook, `${content}# changed\n`);
    const changed = await verify();
    expect(changed.code).not.toBe(0);
    expect(changed.stdout + changed.stderr).toMatch(/hooks\/update\.d\/gitea/);
    await writeFile(giteaHook, content);
    await chown(join(target, 'infra/docs.git/objects'), 0, 0);
    const owner = await verify();
    expect(owner.code).not.toBe(0);
    expect(owner.stderr).toMatch(/infra\/docs\.git\/objects.*0:0.*1000:1000|not owned by 1000:1000.*infra\/docs\.git\/objects/s);
    await chown(join(target, 'infra/docs.git/objects'), 1000, 1000);
    expectOk(await verify(), 'verify after the owner is back');
  });

  describe('a source repository git cannot read fails the run, naming it and git', () => {
    const breakages: [string, string, RegExp][] = [
      ['a corrupt HEAD', 'echo garbage > "$R/HEAD"', /not a git repository/],
      [
        'a corrupt packed-refs',
        'git -c safe.directory=* -C "$R" pack-refs --all && echo "garbage line" >> "$R/packed-refs"',
        /unexpected line in .*packed-refs/,
      ],
      [
        'a broken loose ref in an otherwise empty repository',
        'rm -rf "$R/objects/pack"/* "$R/packed-refs" "$R/refs/heads"/* "$R/refs/tags"/*; echo nosha > "$R/refs/heads/main"',
        /broken ref refs\/heads\/main/,
      ],
      ['a ref to a missing object', 'echo 1234567890123456789012345678901234567890 > "$R/refs/heads/lost"', /bad object refs\/heads\/lost/],
    ];
    for (const [what, breakIt, gitSays] of breakages) {
      it(what, async () => {
        const dir = join(root, `unreadable-${what.replace(/\W+/g, '-')}`);
        await mkdir(dir, { recursive: true });
        await runCommand('cp', ['-a', join(gitea, 'alice'), join(gitea, 'infra'), dir]);
        const broken = await runShell(breakIt, { R: join(dir, 'infra/docs.git') });
        expectOk(broken, 'breaking the repository');
        const to = join(root, `dest-${relative(root, dir)}`);
        const backup = await runStep(gitBackup.expand({ repositories: dir, to }, context), root);
        expect(backup.run.code, backup.run.stderr).not.toBe(0);
        expect(backup.run.stderr).toMatch(/infra\/docs\.git/);
        expect(backup.run.stderr).toMatch(gitSays);
        const manifests = await runCommand('find', [to, '-name', 'manifest.json']).catch(() => ({ stdout: '' }));
        expect(manifests.stdout).toBe('');
      });
    }
  });

  it('fails the run when a bundle lacks a ref the source has', async () => {
    // A git whose bundles drop tags: what the run checks, whatever the cause.
    const shim = join(root, 'shim');
    await mkdir(shim, { recursive: true });
    const real = (await runCommand('sh', ['-c', 'command -v git'])).stdout.trim();
    await writeFile(
      join(shim, 'git'),
      `#!/usr/bin/env bash\nargs=()\nfor a in "$@"; do if [ "$a" = --all ]; then args+=(--branches); else args+=("$a"); fi; done\nexec ${real} "\${args[@]}"\n`,
      { mode: 0o755 },
    );
    const to = join(root, 'dest-shim');
    const backup = await runStep(gitBackup.expand({ repositories: gitea, to }, context), root, {
      PATH: `${shim}:${binDir}:${systemPath()}`,
    });
    expect(backup.run.code).not.toBe(0);
    expect(backup.run.stderr).toMatch(/refs\/tags\/v1\.0\.0/);
    expect(backup.run.stderr).toMatch(/alice\/website\.git/);
  });

  it("fails the backup's verification when the manifest lacks repositories or refs the source had before it", async () => {
    const dir = join(root, 'verify-source');
    await mkdir(dir, { recursive: true });
    await runCommand('cp', ['-a', join(gitea, 'alice'), join(gitea, 'bob'), dir]);
    const to = join(root, 'dest-verify-source');
    const expansion = gitBackup.expand({ repositories: dir, to }, context);
    const backup = await runStep(expansion, root);
    expectOk(backup.run, 'backup');
    expectOk(backup.verify, 'backup verify');
    const path = join(to, backup.outputs.backup!, 'manifest.json');
    const good = JSON.parse(await readFile(path, 'utf8'));
    const verifyWith = async (change: (manifest: any) => void) => {
      const manifest = structuredClone(good);
      change(manifest);
      await writeFile(path, JSON.stringify(manifest));
      return runShell(expansion.verify.run, { RUNBOOK_OUTPUT: '/dev/null' });
    };
    const forget = (repo: string) => (manifest: any) => {
      for (const field of ['refs', 'heads', 'repositories']) delete manifest[field]?.[repo];
      manifest.files = manifest.files.filter((file: { name: string }) => !file.name.includes(repo));
    };

    const none = await verifyWith((manifest) => {
      for (const repo of Object.keys(good.refs)) forget(repo)(manifest);
    });
    expect(none.code).not.toBe(0);
    expect(none.stderr).toMatch(/no repositories/);
    const missing = await verifyWith(forget('bob/api.git'));
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toMatch(/bob\/api\.git.*missing from the manifest|missing from the manifest.*bob\/api\.git/s);
    const emptied = await verifyWith((manifest) => {
      manifest.refs['alice/website.git'] = {};
      manifest.files = manifest.files.filter((file: { name: string }) => file.name !== 'bundles/alice/website.git.bundle');
    });
    expect(emptied.code).not.toBe(0);
    expect(emptied.stderr).toMatch(/alice\/website\.git.*refs/);

    // Seconds later, a repository created and a first push made after the backup are no loss.
    expectOk(await verifyWith(() => {}), 'verify of the untouched manifest');
    // What counts as after the backup starts a second after `created` (the start, truncated).
    const after = Date.parse(good.created) + 2000 - Date.now();
    if (after > 0) await new Promise((resolve) => setTimeout(resolve, after));
    await git(['init', '--quiet', '--bare', join(dir, 'carol/new.git')]);
    const commit = (
      await git([
        '-c',
        'user.name=t',
        '-c',
        'user.email=t@t',
        '-C',
        join(dir, 'alice/empty.git'),
        'commit-tree',
        '-m',
        'first',
        '4b825dc642cb6eb9a060e54bf8d69288fbee4904',
      ])
    ).stdout.trim();
    await git(['-C', join(dir, 'alice/empty.git'), 'update-ref', 'refs/heads/main', commit]);
    expectOk(await verifyWith(() => {}), 'verify after a new repository and a first push');
  });

  it('restores a backup written before owners and hooks were recorded as it did then', async () => {
    const dir = join(root, 'old-format');
    await mkdir(dir, { recursive: true });
    await runCommand('cp', ['-a', join(gitea, 'infra'), dir]);
    const to = join(root, 'dest-old-format');
    const backup = await runStep(gitBackup.expand({ repositories: dir, to }, context), root);
    expectOk(backup.run, 'backup');
    const path = join(to, backup.outputs.backup!, 'manifest.json');
    const manifest = JSON.parse(await readFile(path, 'utf8'));
    delete manifest.repositories;
    manifest.files = manifest.files.filter((file: { name: string }) => file.name.startsWith('bundles/'));
    await writeFile(path, JSON.stringify(manifest));
    await rm(join(to, backup.outputs.backup!, 'metadata'), { recursive: true, force: true });

    const target = join(root, 'restored-old-format');
    const restore = await runStep(gitRestore.expand({ allow_unsigned: true, from: to, to: target }, context), root);
    expectOk(restore.run, 'restore');
    expectOk(restore.verify, 'restore verify');
    expect(await refsOf(join(target, 'infra/docs.git'))).toEqual(await refsOf(join(dir, 'infra/docs.git')));
    expect((await readdir(join(target, 'infra/docs.git/hooks'))).some((name) => name.endsWith('.sample'))).toBe(true);
  });
});
