// The actions' shell library as real shell: every file passes shellcheck and only defines
// functions, every function a file calls exists, and the shared functions do what their callers
// rely on, run by a real bash against real folders and a real rclone.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { actions } from '../../src/actions/index.js';
import { definitionsFor, loadLibrary, scriptFor } from '../../src/actions/library.js';
import { startPostgres, type PgCluster } from '../../tools/stack/postgres.js';
import { systemPath } from '../../tools/stack/run.js';
import { requireBinaries, runShell } from '../backup/shell.js';
import { writeDockerExec } from './postgres-fixture.js';
import { fileEntry, handMadeManifest } from '../helpers/manifest.js';

const library = loadLibrary();
const defined = new Set(library.flatMap((unit) => unit.functions));
const scratch = () => mkdtempSync(join(tmpdir(), 'runbook-library-'));

describe('the shell library', () => {
  it('has files for every action, each defining the run and verify functions its action calls', () => {
    for (const name of Object.keys(actions)) {
      const prefix = `rb_${name.replace(/\./g, '_')}`;
      const folder = library.filter((unit) => unit.file.startsWith(`${name}/`));
      if (!folder.length) continue; // an action not converted yet has no folder
      expect(defined, name).toContain(`${prefix}_run`);
      expect(defined, name).toContain(`${prefix}_verify`);
    }
  });

  it.each(library.filter((unit) => unit.file.endsWith('.sh')).map((unit) => unit.file))('%s passes shellcheck', (file) => {
    requireBinaries('shellcheck');
    const path = new URL(`../../src/actions/${file}`, import.meta.url);
    expect(() => execFileSync('shellcheck', ['--format=gcc', path.pathname], { encoding: 'utf8' })).not.toThrow();
  });

  it.each(library.map((unit) => unit.file))('%s only defines functions: pasting it runs nothing and sets nothing', (file) => {
    const unit = library.find((u) => u.file === file)!;
    const dir = scratch();
    writeFileSync(join(dir, 'unit.sh'), unit.text);
    // Variables bash itself changes as it runs are left out of the comparison.
    const state = `declare -p | grep -vE '^declare -[^ ]* (BASH_[A-Z_]*|_|FUNCNAME|PIPESTATUS|LINENO|RANDOM|SRANDOM|SECONDS|EPOCH[A-Z]*)(=|$)'`;
    const script = `${state} > "$1/before"; source "$1/unit.sh"; ${state} > "$1/after"; declare -F | awk '{print $3}' > "$1/functions"`;
    const printed = execFileSync('bash', ['-euo', 'pipefail', '-c', script, 'bash', dir], { encoding: 'utf8' });
    expect(printed).toBe('');
    expect(readFileSync(join(dir, 'after'), 'utf8')).toBe(readFileSync(join(dir, 'before'), 'utf8'));
    expect(readFileSync(join(dir, 'functions'), 'utf8').trim().split('\n').sort()).toEqual([...unit.functions].sort());
    expect(unit.functions.every((name) => name.startsWith('rb_'))).toBe(true);
  });

  it('calls no rb_ function that the library does not define', () => {
    const missing = library.flatMap((unit) =>
      [...unit.text.matchAll(/\brb_[a-z0-9_]+\b/g)].filter((m) => !defined.has(m[0])).map((m) => `${unit.file}: ${m[0]}`),
    );
    expect(missing).toEqual([]);
  });

  it('gives a text the definitions it calls and theirs, and leaves a plain text as it is', () => {
    const files = definitionsFor('rb_backup_resolve "$X" latest').map((unit) => unit.file);
    expect(files).toEqual(['lib/backup.sh', 'lib/step.sh']);
    expect(scriptFor('echo hello')).toBe('echo hello');
    expect(scriptFor('rb_output key value').endsWith('\nrb_output key value')).toBe(true);
  });
});

describe('lib/step.sh', () => {
  it('runs every exit handler, the last registered first, even when one fails, and keeps the exit status', async () => {
    const result = await runShell(`first() { echo first; }
second() { echo second; false; }
rb_on_exit first
rb_on_exit second
exit 3`);
    expect(result.code).toBe(3);
    expect(result.stdout).toBe('second\nfirst\n');
  });

  it('removes the work folder when the shell exits, also after a failure', async () => {
    const dir = scratch();
    const result = await runShell(
      `rb_work test
echo "$WORK"
touch "$WORK/data"
false`,
      { TMPDIR: dir },
    );
    expect(result.code).toBe(1);
    const work = result.stdout.trim();
    expect(work.startsWith(join(dir, 'runbook-test.'))).toBe(true);
    expect(existsSync(work)).toBe(false);
  });

  it('writes outputs, and messages prefixed with the action', async () => {
    const dir = scratch();
    const output = join(dir, 'output');
    const result = await runShell(
      `RB_ACTION=demo.action
rb_output backup 2026-01-01T000000Z
rb_say "hello"
rb_fail "broken"`,
      { RUNBOOK_OUTPUT: output },
    );
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('demo.action: hello\n');
    expect(result.stderr).toBe('demo.action: broken\n');
    expect(readFileSync(output, 'utf8')).toBe('backup=2026-01-01T000000Z\n');
  });
});

describe('lib/backup.sh', () => {
  const manifestOf = (id: string) =>
    handMadeManifest('files', id, { created: '2026-11-20T02:00:00Z', files: [fileEntry('data', `data of ${id}\n`)] });
  const store = () => {
    const dir = scratch();
    const dest = join(dir, 'dest');
    for (const [id, complete] of [
      ['2026-11-20T020000Z', true],
      ['2026-11-21T020000Z', true],
      ['2026-11-22T020000Z', false],
    ] as const) {
      mkdirSync(join(dest, id), { recursive: true });
      writeFileSync(join(dest, id, 'data'), `data of ${id}\n`);
      writeFileSync(join(dest, id, 'planted'), 'not in the manifest\n');
      if (complete) writeFileSync(join(dest, id, 'manifest.json'), JSON.stringify(manifestOf(id)));
    }
    mkdirSync(join(dest, 'notes'), { recursive: true });
    writeFileSync(join(dest, 'notes', 'manifest.json'), '{}');
    return { dir, dest };
  };

  it('picks latest as the newest trusted folder, never an incomplete or foreign one, and writes the manifest that was checked', async () => {
    requireBinaries('rclone');
    const { dir, dest } = store();
    const result = await runShell(
      `ALLOW_UNSIGNED=true\nrb_backup_pick "$DEST" latest "$DIR/latest.json"; rb_backup_pick "$DEST" 2026-11-20T020000Z "$DIR/named.json"`,
      { DEST: dest, DIR: dir },
    );
    expect(result.stdout, result.stderr).toBe('2026-11-21T020000Z\n2026-11-20T020000Z\n');
    expect(readFileSync(join(dir, 'latest.json'), 'utf8')).toBe(JSON.stringify(manifestOf('2026-11-21T020000Z')));
    expect(JSON.parse(readFileSync(join(dir, 'named.json'), 'utf8')).id).toBe('2026-11-20T020000Z');
  });

  it('fails with the location named when there is no trusted complete backup, and without signers or allow_unsigned', async () => {
    const dir = scratch();
    mkdirSync(join(dir, 'empty', '2026-11-22T020000Z'), { recursive: true });
    const result = await runShell(
      `RB_ACTION=files.restore ALLOW_UNSIGNED=true\nBACKUP="$(rb_backup_pick "$DEST" latest "$DIR/m.json")"\necho "not reached"`,
      { DEST: join(dir, 'empty'), DIR: dir },
    );
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain(`no trusted complete backup under ${join(dir, 'empty')}`);
    const unsaid = await runShell(`RB_ACTION=files.restore\nBACKUP="$(rb_backup_pick "$DEST" latest "$DIR/m.json")"\necho "not reached"`, {
      DEST: join(dir, 'empty'),
      DIR: dir,
    });
    expect(unsaid.code).toBe(1);
    expect(unsaid.stderr).toContain('files.restore: nothing to check backup signatures with');
  });

  it('fetches only the files the manifest lists', async () => {
    const { dir, dest } = store();
    const into = join(dir, 'fetched');
    writeFileSync(join(dir, 'm.json'), JSON.stringify(manifestOf('2026-11-21T020000Z')));
    const fetched = await runShell(`rb_work fetch\nrb_backup_fetch "$DEST" 2026-11-21T020000Z "$INTO" "$DIR/m.json"`, {
      DEST: dest,
      INTO: into,
      DIR: dir,
    });
    expect(fetched.code, fetched.stderr).toBe(0);
    expect(readdirSync(into)).toEqual(['data']);
    expect(readFileSync(join(into, 'data'), 'utf8')).toBe('data of 2026-11-21T020000Z\n');
  });

  it('uses the backup the run published in its verification, else the fallback', async () => {
    const dir = scratch();
    const output = join(dir, 'output');
    writeFileSync(output, 'backup=2026-01-01T000000Z\nbackup=2026-01-02T000000Z\n');
    expect((await runShell('rb_backup_of_run latest', { RUNBOOK_OUTPUT: output })).stdout).toBe('2026-01-02T000000Z\n');
    expect((await runShell('rb_backup_of_run latest', { RUNBOOK_OUTPUT: join(dir, 'none') })).stdout).toBe('latest\n');
  });

  it("starts a backup with a UTC id and writes a manifest with the runbook's identity", async () => {
    requireBinaries('jq');
    const dir = scratch();
    const output = join(dir, 'output');
    const result = await runShell(
      `rb_work manifest
rb_backup_start
rb_manifest_write files --argjson count 2 '{count: $count}'
cat "$WORK/manifest.json"`,
      { RUNBOOK_OUTPUT: output, RUNBOOK_NAME: 'backup-files', RUNBOOK_STEP: 'files', RUNBOOK_COMMIT: 'abc', RUNBOOK_RUN_ID: 'r1' },
    );
    expect(result.code, result.stderr).toBe(0);
    const manifest = JSON.parse(result.stdout);
    expect(manifest).toMatchObject({
      format: 'runbook-backup/1',
      kind: 'files',
      count: 2,
      runbook: { name: 'backup-files', commit: 'abc', run_id: 'r1', step: 'files' },
    });
    expect(manifest.id).toMatch(/^\d{4}-\d{2}-\d{2}T\d{6}Z$/);
    expect(manifest.created).toBe(manifest.id.replace(/^(.{13})(..)(..)Z$/, '$1:$2:$3Z'));
    expect(readFileSync(output, 'utf8')).toBe(`backup=${manifest.id}\n`);
  });
});

describe('lib/git.sh', () => {
  it('passes a repository holding exactly the recorded refs and HEAD, and fails on a missing, extra or moved ref or another HEAD', async () => {
    requireBinaries('git', 'jq');
    const dir = scratch();
    const repo = join(dir, 'repo.git');
    const make = await runShell(
      `git init --quiet --bare --initial-branch=main "$REPO"
tree=$(git -C "$REPO" mktree < /dev/null)
one=$(git -C "$REPO" -c user.name=t -c user.email=t@t commit-tree -m one "$tree")
two=$(git -C "$REPO" -c user.name=t -c user.email=t@t commit-tree -m two -p "$one" "$tree")
git -C "$REPO" update-ref refs/heads/main "$two"
git -C "$REPO" update-ref refs/tags/v1 "$one"
echo "$one $two"`,
      { REPO: repo },
    );
    expect(make.code, make.stderr).toBe(0);
    const [one, two] = make.stdout.trim().split(' ');
    const manifest = { refs: { 'repo.git': { 'refs/heads/main': two, 'refs/tags/v1': one, HEAD: two } } };
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest));
    const check = (change = '') => runShell(`WORK="$DIR"\n${change}\nrb_git_check_refs "$REPO" repo.git`, { DIR: dir, REPO: repo });

    expect((await check()).code).toBe(0);
    const moved = await check(`git -C "$REPO" update-ref refs/tags/v1 ${two}`);
    expect(moved.code).toBe(1);
    expect(moved.stdout).toContain(`< ${one} refs/tags/v1`);
    const extra = await check(`git -C "$REPO" update-ref refs/tags/v1 ${one}; git -C "$REPO" update-ref refs/heads/other ${one}`);
    expect(extra.code).toBe(1);
    expect(extra.stdout).toContain(`> ${one} refs/heads/other`);
    const head = await check(
      `git -C "$REPO" update-ref -d refs/heads/other; git -C "$REPO" update-ref refs/heads/side ${one}; git -C "$REPO" symbolic-ref HEAD refs/heads/side`,
    );
    expect(head.code).toBe(1);
    expect(head.stdout).toContain(`> ${one} refs/heads/side`);
    // Only HEAD differs: every ref equals the manifest's, but HEAD names another commit.
    const onlyHead = await check(`git -C "$REPO" update-ref -d refs/heads/side; git -C "$REPO" symbolic-ref HEAD refs/tags/v1`);
    expect(onlyHead.code).toBe(1);
    expect(onlyHead.stderr).toContain(`${repo}: HEAD is not ${two}`);
    const fixed = await check(`git -C "$REPO" symbolic-ref HEAD refs/heads/main`);
    expect(fixed.code, fixed.stderr).toBe(0);
    // An `if` condition, where set -e does not stop it: the explicit returns still fail it.
    const condition = await runShell(
      `WORK="$DIR"\ngit -C "$REPO" update-ref refs/tags/v2 ${one}\nif rb_git_check_refs "$REPO" repo.git > /dev/null; then echo same; else echo differs; fi`,
      { DIR: dir, REPO: repo },
    );
    expect(condition.stdout).toBe('differs\n');
  });
});

describe('lib/postgres.sh', () => {
  let root: string;
  let pg: PgCluster;
  const hostTarget = () => ({ PG_CONTAINER: '', PG_HOST: pg.host, PG_PORT: String(pg.port), PG_USER: 'postgres' });

  beforeAll(async () => {
    requireBinaries('psql', 'jq');
    root = scratch();
    pg = await startPostgres({ root, name: 'library' });
    await pg.createDatabase('app');
    await pg.psql(
      `CREATE SCHEMA auth; CREATE TABLE auth.users (id int); INSERT INTO auth.users SELECT generate_series(1, 3);
      CREATE TABLE public."Order Items" (id int); CREATE TABLE public.parted (id int) PARTITION BY RANGE (id);`,
      'app',
    );
  });
  afterAll(async () => {
    await pg?.destroy();
    rmSync(root, { recursive: true, force: true });
  });

  it('runs psql against a host target, stopping at the first error', async () => {
    const ok = await runShell(`rb_psql -At -d app -c 'SELECT count(*) FROM auth.users'; rb_pg_where`, hostTarget());
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toBe(`3\n${pg.host}:${pg.port}\n`);
    const failed = await runShell(`printf 'SELECT 1/0;\\nSELECT 42;\\n' | rb_psql -At -d app`, hostTarget());
    expect(failed.code).toBe(3);
    expect(failed.stdout).not.toContain('42');
  });

  it('runs the tools through docker exec for a container target, passing PGPASSWORD only when it is set', async () => {
    const log = join(root, 'docker.log');
    const env = {
      PG_CONTAINER: 'db',
      PG_USER: 'postgres',
      PATH: `${await writeDockerExec(join(root, 'bin'), pg)}:${systemPath()}`,
      DOCKER_LOG: log,
    };
    const result = await runShell(
      `rb_psql -At -d app -c 'SELECT 1'; rb_pg_where; export PGPASSWORD=secret; rb_pg pg_dump -s -d app > /dev/null`,
      env,
    );
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe('1\ncontainer db\n');
    expect(readFileSync(log, 'utf8')).toBe(
      'exec -i db psql -U postgres -X -v ON_ERROR_STOP=1 -w -At -d app -c SELECT 1\nexec -i -e PGPASSWORD db pg_dump -U postgres -s -d app\n',
    );
  });

  it('counts the rows of every user table, and compares them with a manifest', async () => {
    const counts = await runShell(`rb_pg_count_rows app`, hostTarget());
    expect(counts.code, counts.stderr).toBe(0);
    expect(JSON.parse(counts.stdout)).toEqual({ 'auth.users': 3, 'public.Order Items': 0, 'public.parted': 0 });
    const manifest = join(root, 'manifest.json');
    writeFileSync(manifest, JSON.stringify({ tables: { 'auth.users': 3, 'public.Order Items': 0, 'public.parted': 0 } }));
    const compare = (got: string) =>
      runShell(
        `RB_ACTION=postgres.restore\nBACKUP=2026-01-01T000000Z\nTABLES="$(rb_pg_compare_counts "$MANIFEST" "$GOT" app)"\necho "$TABLES"`,
        {
          MANIFEST: manifest,
          GOT: got,
        },
      );
    const equal = await compare(counts.stdout.trim());
    expect(equal.code, equal.stderr).toBe(0);
    expect(equal.stdout).toBe('3\n');
    const differ = await compare('{"auth.users": 2, "public.parted": 0}');
    expect(differ.code).toBe(1);
    expect(differ.stdout).toBe('');
    expect(differ.stderr).toBe(
      'auth.users: expected 3, got 2\npublic.Order Items: expected 0, got no such table\npostgres.restore: row counts in app differ from the manifest of 2026-01-01T000000Z\n',
    );
    writeFileSync(manifest, '{"tables": ');
    const broken = await compare('{}');
    expect(broken.code).not.toBe(0);
    expect(broken.stdout).toBe('');
  });
});
