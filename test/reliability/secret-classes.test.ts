// Guarantee 7, by class: a secret never reaches a file or a terminal cut in half by a truncation,
// shell-quoted (`set -x`, `@Q`, `printf %q`, `declare -p`), through a command other than exec, nor
// through a file others can read; and masking never rewrites a journal's structure.
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMasker, maskRecord } from '../../src/engine/mask.js';
import { createGitRepo, type GitRepo } from '../helpers/git-repo.js';
import { bash, leaksIn } from './helpers/leak-forms.js';
import { cliEnv, expectBuilt, runCli, type CliOutcome } from '../helpers/cli.js';

/** 32 characters, with the ones shells quote: `'`, `"`, `$`, a backquote, a backslash, a space, `!`. */
const secret = `Tr0ub4dor'x9Kq"$w\`\\ !zQ-7hT2mVb5`;
const multiLine = `first-line-Xq7Lm2\nsecond it's Wz9Pk4\n\tthird-Rr5Nn8`;

const everyFile = (dir: string): string[] =>
  existsSync(dir)
    ? readdirSync(dir).flatMap((entry) => {
        const path = join(dir, entry);
        return statSync(path).isDirectory() ? everyFile(path) : [path];
      })
    : [];

const ignored = ['.state/', 'drills/', 'count', 'pass', 'made-by-step', ''].join('\n');
const repos: GitRepo[] = [];
afterAll(() => repos.forEach((repo) => repo.remove()));
beforeAll(() => expectBuilt(), 120_000);

/** A fresh repository holding `runbook` as rb.yaml: the tests run concurrently, each in its own. */
const newRepo = (runbook: string): GitRepo => {
  const repo = createGitRepo({ 'rb.yaml': runbook, '.gitignore': ignored });
  repos.push(repo);
  return repo;
};
const stateOf = (repo: GitRepo) => join(repo.dir, '.state');

/** Runs `runbook COMMAND rb.yaml ARGS` in `repo`, secret TOK set. */
const run = (repo: GitRepo, args: string[], value = secret, extra: Record<string, string> = {}): Promise<CliOutcome> => {
  const [command, ...rest] = args;
  const stateArgs = command === 'exec' || command === 'drill' ? ['--state-dir', stateOf(repo), '--output', 'plain'] : [];
  return runCli([command!, 'rb.yaml', ...stateArgs, ...rest], { cwd: repo.dir, env: cliEnv({ TOK: value, ...extra }) });
};

/** Everything a run left: its output and every file under the state dir and the drill reports. */
const everything = (repo: GitRepo, outcome: CliOutcome): string =>
  [
    outcome.stdout,
    outcome.stderr,
    ...[stateOf(repo), join(repo.dir, 'drills')].flatMap(everyFile).map((f) => readFileSync(f, 'utf8')),
  ].join('\n');

const expectNoLeak = (repo: GitRepo, outcome: CliOutcome, value = secret) => {
  expect(leaksIn(everything(repo, outcome), value)).toEqual([]);
};

const oneStep = (verify: string, run = 'true', name = 'leaky') => `runbook: 1
name: ${name}
secrets: [TOK]
steps:
  - id: s
    run: |
${run
  .split('\n')
  .map((line) => `      ${line}`)
  .join('\n')}
    verify: |
${verify
  .split('\n')
  .map((line) => `      ${line}`)
  .join('\n')}
      test -n "$TOK"
`;

describe.concurrent('a secret cut by a truncation', () => {
  // The verification's output is kept to its last 4096 characters: 30 of the secret's 32 inside.
  const straddle = (after: number) => `printf '%s' "$TOK"; head -c ${after} /dev/zero | tr '\\0' x; echo`;

  it('is masked when it straddles the cut of a passing verification output', async () => {
    const repo = newRepo(oneStep(straddle(4096 - 30 - 1)));
    const outcome = await run(repo, ['exec']);
    expect(outcome.code, outcome.stderr).toBe(0);
    expectNoLeak(repo, outcome);
  });

  it('is masked when it straddles the cut of a failing verification (the step-failed record)', async () => {
    const repo = newRepo(oneStep(`${straddle(4096 - 12 - 1)}\nfalse`));
    const outcome = await run(repo, ['exec']);
    expect(outcome.code, outcome.stderr).toBe(1);
    expectNoLeak(repo, outcome);
  });

  it('is masked when its hex form straddles the cut', async () => {
    const repo = newRepo(oneStep(`printf '%s' "$TOK" | xxd -p -c 0 | tr -d '\\n'; head -c ${4096 - 40 - 1} /dev/zero | tr '\\0' x; echo`));
    const outcome = await run(repo, ['exec']);
    expect(outcome.code, outcome.stderr).toBe(0);
    expectNoLeak(repo, outcome);
  });

  it('is masked in the drill report when it straddles the cut', async () => {
    const repo = newRepo(oneStep(straddle(4096 - 20 - 1)));
    const outcome = await run(repo, ['drill', '--report-dir', 'drills']);
    expect(everyFile(join(repo.dir, 'drills')).length, outcome.stderr).toBeGreaterThan(0);
    expectNoLeak(repo, outcome);
  });

  it('is masked in a long step output value and in the drill report that quotes it', async () => {
    const repo = newRepo(oneStep('true', `printf 'long=%s%s\\n' "$(head -c 4090 /dev/zero | tr '\\0' y)" "$TOK" >> "$RUNBOOK_OUTPUT"`));
    const outcome = await run(repo, ['drill', '--report-dir', 'drills']);
    expect(outcome.code, outcome.stdout + outcome.stderr).toBe(0);
    expect(everything(repo, outcome)).toMatch(/y{4090}\*\*\*/);
    expectNoLeak(repo, outcome);
  });

  it('is masked when a step prints it in two chunks (log.txt is written from streamed output)', async () => {
    const repo = newRepo(oneStep('true', `printf 'a %s' "\${TOK:0:14}"; sleep 0.2; printf '%s b\\n' "\${TOK:14}"`));
    const outcome = await run(repo, ['exec']);
    expect(outcome.code, outcome.stderr).toBe(0);
    expect(
      readFileSync(
        everyFile(stateOf(repo)).find((f) => f.endsWith('log.txt'))!,
        'utf8',
      ),
    ).toContain('a *** b');
    expectNoLeak(repo, outcome);
  });

  it('is masked in an error that quotes a resolved value cut to 40 characters', async () => {
    const runbook = `runbook: 1
name: quoted
secrets: [TOK]
steps:
  - id: w
    uses: http.wait
    with:
      url: http://127.0.0.1:1/
      timeout: \${{ env.TOK }}
`;
    const long = `${secret}-and-then-some-more-characters`;
    for (const command of ['plan', 'exec']) {
      const repo = newRepo(runbook);
      const outcome = await run(repo, [command], long);
      expect(outcome.code).toBe(2);
      expect(outcome.stderr).toMatch(/must be a duration/);
      expectNoLeak(repo, outcome, long);
    }
  });
});

describe.concurrent('a secret quoted by the shell', () => {
  const cases: [string, string, string][] = [
    ['printed by set -x in a verification', 'set -x; test -n "$TOK"; set +x', secret],
    ["under ${S@Q} (its ' quoted as '\\'')", 'echo "${TOK@Q}"', secret],
    ['under printf %q', `printf '%q\\n' "$TOK"`, secret],
    ['under declare -p', 'declare -p TOK', secret],
    ['under export -p', 'export -p | grep TOK=', secret],
    ['multi-line under ${S@Q}', 'echo "${TOK@Q}"', multiLine],
    ['multi-line printed by set -x', 'set -x; test -n "$TOK"; set +x', multiLine],
    ['under declare -p in the C locale (non-ASCII as octal)', 'LC_ALL=C bash -c "declare -p TOK"', `${secret}-ä`],
  ];
  it.each(cases)('is masked when %s', async (_name, verify, value) => {
    const repo = newRepo(oneStep(verify, verify));
    const outcome = await run(repo, ['exec'], value);
    expect(outcome.code, outcome.stderr).toBe(0);
    expectNoLeak(repo, outcome, value);
  });

  it('is masked by the masker in every quoted form bash prints', () => {
    const mask = createMasker([secret, multiLine]);
    for (const value of [secret, multiLine])
      for (const locale of ['C.UTF-8', 'C']) {
        const printed = bash(`echo "\${S@Q}"; printf '%q\\n' "$S"; declare -p S; set -x; : "$S"`, { S: value }, locale);
        expect(leaksIn(mask(printed), value), printed).toEqual([]);
      }
  });
});

describe('masking a record', () => {
  it('masks its text and keeps its ids, types, hashes and names', () => {
    const mask = createMasker(['done', 'migrate', 'result']);
    const record = {
      type: 'step-done',
      id: 'migrate',
      hash: 'h',
      outputs: { result: 'result: migrate done' },
      verify: { reason: 'migrate done', output: 'done' },
      steps: [{ id: 'migrate', name: 'migrate it' }],
    };
    expect(maskRecord(record, mask)).toEqual({
      type: 'step-done',
      id: 'migrate',
      hash: 'h',
      outputs: { result: '***: *** ***' },
      verify: { reason: '*** ***', output: '***' },
      steps: [{ id: 'migrate', name: '*** it' }],
    });
  });

  it("never rewrites a run's recorded inputs: digests and names only, which a hex-like secret could hit", () => {
    const mask = createMasker(['beef', 'cafe0']);
    const record = {
      type: 'run-start',
      inputs: { salt: 'cafe0123', environment: 'staging', vars: { a: 'deadbeef00' }, envFile: { B: '00cafe01' }, secrets: ['S'] },
      dirty: ['runbooks/beef.yaml'],
    };
    expect(maskRecord(record, mask)).toEqual(record);
  });
});

describe.concurrent('every command masks what it prints', () => {
  const derived = `runbook: 1
name: derived
secrets: [TOK]
vars:
  token: \${{ env.TOK }}
steps:
  - id: w
    uses: http.wait
    with:
      url: http://127.0.0.1:1/\${{ env.TOK }}
`;
  // docs writes the secret's name where its value would be, plan and exec --dry-run mask it.
  it.each([
    ['plan', ['plan'], '***'],
    ['plan --format json', ['plan', '--format', 'json'], '***'],
    ['exec --dry-run', ['exec', '--dry-run'], '***'],
    ['docs', ['docs'], '${TOK}'],
  ])('%s masks secret-derived values', async (_name, args, shown) => {
    const repo = newRepo(derived);
    const outcome = await run(repo, args);
    expect(outcome.code, outcome.stderr).toBe(0);
    expect(outcome.stdout).toContain(shown);
    expectNoLeak(repo, outcome);
  });
});

describe.concurrent('the modes of what a run writes', () => {
  const modes = (dir: string): string[] => {
    const root = dir.replace(/\/(\.state|drills)$/, '');
    const out: string[] = [];
    const walk = (path: string) => {
      const stat = statSync(path);
      out.push(`${(stat.mode & 0o777).toString(8)} ${path.slice(root.length)}`);
      if (stat.isDirectory()) for (const entry of readdirSync(path)) walk(join(path, entry));
    };
    walk(dir);
    return out;
  };
  const wide = (dir: string) => modes(dir).filter((line) => !/^(600|700) /.test(line));
  // The step checks its own outputs file and the lock while it runs.
  const checks = `out=$(stat -c %a "$RUNBOOK_OUTPUT"); lock=$(stat -c %a "$RUNBOOK_STATE_DIR"/locks/*)
echo "out=$out lock=$lock"; test "$out" = 600 && test "$lock" = 600
echo "v=1" >> "$RUNBOOK_OUTPUT"; touch made-by-step`;

  it('is 0600 for files and 0700 for folders after a successful run; the outputs file and lock too', async () => {
    const repo = newRepo(oneStep('test -e made-by-step', checks));
    const outcome = await run(repo, ['exec']);
    expect(outcome.code, outcome.stdout + outcome.stderr).toBe(0);
    expect(wide(stateOf(repo))).toEqual([]);
    // What steps create in the user's tree keeps the user's umask.
    expect((statSync(join(repo.dir, 'made-by-step')).mode & 0o777).toString(8)).toBe('644');
  });

  it('is 0600/0700 after a failed run', async () => {
    const repo = newRepo(oneStep('false', checks));
    const outcome = await run(repo, ['exec']);
    expect(outcome.code, outcome.stdout + outcome.stderr).toBe(1);
    expect(wide(stateOf(repo))).toEqual([]);
  });

  it('is 0600/0700 for the drill report folder and files', async () => {
    const repo = newRepo(oneStep('test -e made-by-step', checks));
    const outcome = await run(repo, ['drill', '--report-dir', 'drills']);
    expect(outcome.code, outcome.stdout + outcome.stderr).toBe(0);
    expect(wide(stateOf(repo))).toEqual([]);
    expect(modes(join(repo.dir, 'drills')).length).toBeGreaterThan(1);
    expect(wide(join(repo.dir, 'drills'))).toEqual([]);
  });

  it('tightens a state folder an older version left world-readable', async () => {
    const repo = newRepo(oneStep('test -e made-by-step', checks));
    const old = join(stateOf(repo), 'runs', '20250101T000000Z-1');
    mkdirSync(old, { recursive: true, mode: 0o755 });
    writeFileSync(join(old, 'journal.jsonl'), '', { mode: 0o644 });
    writeFileSync(join(old, 'log.txt'), 'old\n', { mode: 0o644 });
    for (const dir of [stateOf(repo), join(stateOf(repo), 'runs'), old]) chmodSync(dir, 0o755);
    const outcome = await run(repo, ['exec']);
    expect(outcome.code, outcome.stdout + outcome.stderr).toBe(0);
    expect(wide(stateOf(repo))).toEqual([]);
  });
});

describe.concurrent('a secret equal to a word of the runbook', () => {
  /** Step a counts its runs; b fails on the first run and passes on the resume. */
  const resumable = (names: { runbook?: string; step?: string; output?: string }) => `runbook: 1
name: ${names.runbook ?? 'structure'}
secrets: [TOK]
steps:
  - id: ${names.step ?? 'first'}
    run: |
      echo x >> count
      echo "${names.output ?? 'result'}=value" >> "$RUNBOOK_OUTPUT"
    verify: test -s count
  - id: second
    needs: [${names.step ?? 'first'}]
    env:
      R: \${{ steps.${names.step ?? 'first'}.outputs.${names.output ?? 'result'} }}
    run: echo "got $R"
    verify: test -e pass && test -n "$TOK"
`;
  const resumeTwice = async (runbook: string, value: string, warned = true) => {
    const repo = newRepo(runbook);
    const first = await run(repo, ['exec'], value);
    expect(first.code, first.stdout + first.stderr).toBe(1);
    writeFileSync(join(repo.dir, 'pass'), '');
    const second = await run(repo, ['exec', '--resume'], value);
    expect(second.code, second.stdout + second.stderr).toBe(0);
    // The first step ran once: the resume found it done under its own id.
    expect(readFileSync(join(repo.dir, 'count'), 'utf8')).toBe('x\n');
    const logs = everyFile(stateOf(repo)).filter((file) => file.endsWith('log.txt'));
    expect(logs.map((file) => readFileSync(file, 'utf8')).join('')).toContain('got value');
    // Named, not shown.
    if (warned) expect(first.stdout + first.stderr).toMatch(/secret TOK.*runbook/);
    return { first, second };
  };

  it('keeps the journal intact when the secret equals the runbook name', async () => {
    await resumeTwice(resumable({ runbook: 'nightly-backup' }), 'nightly-backup');
  });
  it('keeps the journal intact when the secret equals a step id', async () => {
    await resumeTwice(resumable({ step: 'migrate' }), 'migrate');
  });
  it('keeps the journal intact when the secret equals an output name', async () => {
    await resumeTwice(resumable({ output: 'dumpfile' }), 'dumpfile');
  });
  it('keeps the journal intact when the secret equals "done"', async () => {
    await resumeTwice(resumable({}), 'done', false);
  });
  it('keeps the record types and hashes when the secret equals a word of them', async () => {
    await resumeTwice(resumable({}), 'step', false);
  });
});
