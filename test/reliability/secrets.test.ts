// Guarantee 7 — secrets never leak: not as themselves, not base64-, URL- or JSON-encoded, not in
// any file under the state dir, not on stdout/stderr, and never in a process's argv.
import { readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMasker } from '../../src/engine/mask.js';
import { startPostgres, type PgCluster } from '../../tools/stack/postgres.js';
import { startS3, type S3Server } from '../../tools/stack/s3.js';
import { createGitRepo, type GitRepo } from '../helpers/git-repo.js';
import { requireBinaries } from '../backup/shell.js';
import { cliEnv, exited, expectBuilt, runCli, startCli } from '../helpers/cli.js';
import { descendants, filesUnder, processes } from './helpers/processes.js';
import { leaksIn } from './helpers/leak-forms.js';

const pem = [
  '-----BEGIN OPENSSH PRIVATE KEY-----',
  'b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW',
  'QyNTUxOQAAACDxW8nW3rYp3Hq0v7Zb2yXb0bF7dQ2f8r8k3wXbq9rQ0QAAAJg1Yx2mNWMd',
  '-----END OPENSSH PRIVATE KEY-----',
].join('\n');
/** Characters that URL-, JSON- and shell-encoding all change. */
const password = 'p@ss w/rd"\\x:ä%41+tail';

/** Every form a leak could take: the value, each line, and their common encodings, computed independently of mask.ts. */
const leakForms = (value: string): string[] => {
  const forms = new Set<string>();
  for (const piece of [value, ...value.split('\n').filter((line) => line.trim().length >= 4)]) {
    forms.add(piece);
    for (const input of [piece, `${piece}\n`]) {
      const b64 = Buffer.from(input).toString('base64');
      // The whole encoding minus its last (newline-dependent) group, and each full 76-column line of `base64`.
      forms.add(b64.slice(0, Math.floor(Buffer.byteLength(piece) / 3) * 4));
      for (let at = 0; at + 76 <= b64.length; at += 76) forms.add(b64.slice(at, at + 76));
    }
    forms.add(encodeURIComponent(piece));
    forms.add(JSON.stringify(piece).slice(1, -1));
  }
  return [...forms].filter((form) => form.length >= 8);
};

describe('the masker', () => {
  it('masks base64 (wrapped, with a trailing newline, at any offset), URL, JSON and hex forms', () => {
    const mask = createMasker([password, pem]);
    const b64 = (text: string) => Buffer.from(text).toString('base64');
    expect(mask(`token ${b64(password)} end`)).toBe('token *** end');
    expect(mask(b64(`${password}\n`))).not.toContain(b64(password).slice(0, 12));
    for (const prefix of ['a', 'ab', 'abc']) expect(mask(b64(prefix + password))).not.toContain(b64(prefix + password).slice(8, 24));
    const wrapped = (b64(`${pem}\n`).match(/.{1,76}/g) ?? []).map(mask);
    expect(wrapped.length).toBeGreaterThan(2);
    expect(wrapped.every((line) => line === '***')).toBe(true);
    expect(mask(`postgresql://app:${encodeURIComponent(password)}@db/app`)).toBe('postgresql://app:***@db/app');
    expect(mask(JSON.stringify({ password, key: pem }))).toBe('{"password":"***","key":"***"}');
    expect(mask(Buffer.from(password).toString('hex'))).toBe('***');
    // Ordinary output survives: no short encoded fragment is masked.
    expect(mask('ok: 200 bytes, sha256 abc, cA== done')).toBe('ok: 200 bytes, sha256 abc, cA== done');
  });

  it('is built once and masks a line in microseconds with many secrets', () => {
    const secrets = Array.from({ length: 20 }, (_, i) => `secret-number-${i}-${'x'.repeat(i)}`);
    const mask = createMasker([...secrets, pem]);
    const line = 'an ordinary line of step output, with nothing secret in it, of a typical length';
    const started = performance.now();
    for (let i = 0; i < 20_000; i++) mask(line);
    // ~1,000 needles: a naive per-needle scan takes ~50 µs a line; one precompiled pattern ~5.
    expect((performance.now() - started) / 20_000).toBeLessThan(40e-3);
  });
});

describe('secrets through runbook exec', () => {
  let repo: GitRepo;
  beforeAll(() => expectBuilt(), 120_000);
  afterAll(() => repo?.remove());

  it('leaks no value or encoding of a secret into the state dir, stdout or stderr', async () => {
    requireBinaries('jq', 'base64', 'xxd');
    repo = createGitRepo({
      'rb.yaml': `runbook: 1
name: leaky
secrets: [DB_PASSWORD, SSH_KEY]
steps:
  - id: encodings
    run: |
      printf '%s' "$DB_PASSWORD" | base64
      echo "$DB_PASSWORD" | base64
      echo "$SSH_KEY" | base64
      printf '%s' "$SSH_KEY" | base64 -w0; echo
      printf 'x%s' "$DB_PASSWORD" | base64
      jq -rn --arg s "$DB_PASSWORD" '$s | @uri'
      jq -n --arg s "$DB_PASSWORD" --arg k "$SSH_KEY" '{password: $s, key: $k}'
      jq -cn --arg k "$SSH_KEY" '{key: $k}' >&2
      printf '%s' "$DB_PASSWORD" | xxd -p
      echo "\${DB_PASSWORD@Q} \${SSH_KEY@Q}"; printf '%q\\n' "$DB_PASSWORD"; declare -p DB_PASSWORD SSH_KEY
      (set -x; : "$DB_PASSWORD" "$SSH_KEY")
      echo "pw=$DB_PASSWORD" >> "$RUNBOOK_OUTPUT"
      echo "url=postgresql://app:$(jq -rn --arg s "$DB_PASSWORD" '$s | @uri')@127.0.0.1/app" >> "$RUNBOOK_OUTPUT"
    verify: test -n "$DB_PASSWORD"
  - id: connect
    run: |
      connect() { echo "FATAL: could not connect to postgresql://app:$DB_PASSWORD@127.0.0.1:1/app" >&2; return 1; }
      connect
    verify: test -n "$SSH_KEY"
`,
    });
    const env = cliEnv({ DB_PASSWORD: password, SSH_KEY: pem });
    const runs = [];
    // One after the other, as before: both use the same state dir and its lock.
    for (const output of ['plain', 'json'])
      runs.push(await runCli(['exec', 'rb.yaml', '--state-dir', join(repo.dir, '.state'), '--output', output], { cwd: repo.dir, env }));
    for (const run of runs) {
      expect(run.code, run.stderr).toBe(1);
      expect(run.stdout + run.stderr).toMatch(/could not connect to postgresql:\/\/app:\*\*\*@127\.0\.0\.1:1\/app/);
    }
    const files = filesUnder(join(repo.dir, '.state'));
    expect(files.some((file) => file.endsWith('log.txt'))).toBe(true);
    const everything = [...runs.flatMap((run) => [run.stdout, run.stderr]), ...files.map((file) => readFileSync(file, 'utf8'))].join('\n');
    // The steps really printed the encoded forms (masked): the assertion below is not vacuous.
    expect(everything.match(/\*\*\*/g)!.length).toBeGreaterThan(30);
    for (const form of [...leakForms(password), ...leakForms(pem), Buffer.from(password).toString('hex')]) {
      expect(everything.includes(form), `leaked: ${form}`).toBe(false);
    }
    // The shell-quoted forms and any 8-character piece of either secret (a cut one) too.
    expect([...leaksIn(everything, password), ...leaksIn(everything, pem)]).toEqual([]);
  });

  it('refuses a one-character secret at preflight (exit 2), running nothing and not printing it', async () => {
    repo?.remove();
    repo = createGitRepo({
      'rb.yaml': `runbook: 1\nname: short\nsecrets: [PIN]\nsteps:\n  - id: a\n    run: touch "$MARK"\n    verify: test -e "$MARK"\n`,
    });
    const mark = join(repo.dir, 'ran');
    const result = await runCli(['exec', 'rb.yaml', '--state-dir', join(repo.dir, '.state'), '--output', 'plain'], {
      cwd: repo.dir,
      env: cliEnv({ PIN: 'Q', MARK: mark }),
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/shorter than 4 characters.*PIN/);
    expect(result.stderr + result.stdout).not.toMatch(/\bQ\b/);
    expect(filesUnder(repo.dir).includes(mark)).toBe(false);
  });
});

describe('secrets reach commands through the environment, never argv', () => {
  let root: string;
  let pg: PgCluster;
  let s3: S3Server;
  let repo: GitRepo;
  beforeAll(async () => {
    requireBinaries('psql', 'pg_dump', 'zstd', 'rclone', 'jq');
    expectBuilt();
    root = await mkdtemp(join(tmpdir(), 'rel-argv-'));
    [pg, s3] = await Promise.all([startPostgres({ root, name: 'argv' }), startS3({ root })]);
    await pg.createDatabase('app');
    await pg.psql('CREATE TABLE t AS SELECT g AS id, md5(g::text) AS v FROM generate_series(1, 20000) g', 'app');
  }, 120_000);
  afterAll(async () => {
    await Promise.all([pg?.destroy(), s3?.stop()]);
    repo?.remove();
    await rm(root, { recursive: true, force: true });
  });

  it('no process of a running step carries a secret value in /proc/PID/cmdline', async () => {
    repo = createGitRepo({
      'rb.yaml': `runbook: 1
name: argv
secrets: [PG_SECRET, RCLONE_CONFIG_BACKUP_SECRET_ACCESS_KEY]
steps:
  - id: dump
    uses: postgres.dump
    with:
      target: { host: 127.0.0.1, port: ${pg.port}, password_secret: PG_SECRET }
      database: app
      to: ${s3.remotePath('argv')}
  - id: use-env
    run: |
      psql -X -w -h 127.0.0.1 -p ${pg.port} -U postgres -d app -c 'SELECT pg_sleep(0.5)' > /dev/null
      sleep 0.5
    env:
      PGPASSWORD: \${{ secrets.PG_SECRET }}
    verify: psql -X -w -h 127.0.0.1 -p ${pg.port} -U postgres -d app -Atc 'SELECT 1' | grep -qx 1
`,
    });
    const envFile = join(root, 'secrets.env');
    const rclone = s3.rcloneEnv();
    writeFileSync(
      envFile,
      Object.entries(rclone)
        .map(([k, v]) => `${k}=${v}`)
        .join('\n') + '\n',
      { mode: 0o600 },
    );
    const secret = 'Pg-Secret-Value-42';
    const child = startCli(['exec', 'rb.yaml', '--env-file', envFile, '--state-dir', join(root, 'state'), '--output', 'plain'], {
      cwd: repo.dir,
      env: cliEnv({ PG_SECRET: secret, TMPDIR: root }),
    });
    const seen = new Set<string>();
    const leaks: string[] = [];
    let done = false;
    const finished = exited(child).then((result) => ((done = true), result));
    while (!done) {
      for (const proc of descendants(child.pid!, processes())) {
        seen.add(proc.comm);
        const argv = proc.argv.join(' ');
        if (argv.includes(secret) || argv.includes('S3RVER')) leaks.push(`${proc.pid} ${argv}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const result = await finished;
    expect(result.code, child.output().stderr).toBe(0);
    expect(leaks).toEqual([]);
    // The scan saw the processes that use the secrets.
    for (const name of ['pg_dump', 'rclone', 'psql']) expect([...seen]).toContain(name);
    expect(child.output().stdout + child.output().stderr).not.toContain(secret);
  }, 120_000);
});
