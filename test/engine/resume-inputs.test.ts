// Issue 13, "resume mixes environments": a step's identity on `--resume` covers everything it reads
// (every var of the run, the environment, its `env`, `--env-file` values, `${{ env.X }}` values,
// which secrets are set), and a resume whose --env, vars or env file differ from the journaled run
// is refused naming what differs; `--force` runs the steps that read them again.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { readJournal } from '../../src/engine/journal.js';
import { cliEnv, expectBuilt, runCli } from '../helpers/cli.js';
import { createGitRepo, type GitRepo } from '../helpers/git-repo.js';

beforeAll(() => expectBuilt('cli/exec.js'));

let repo: GitRepo;
afterEach(() => repo?.remove());

/** s1 records what it saw; s2 passes only once $WORK/go exists. Neither names `${{ vars. }}`. */
const twoSteps = (read = '$target', extra = '') => `runbook: 1
name: two
vars:
  target: none
steps:
  - id: s1${extra}
    run: echo "${read}" >> "$WORK/s1"
    verify: test -s "$WORK/s1"
  - id: s2
    run: echo "${read}" >> "$WORK/s2"
    verify: test -e "$WORK/go"
`;

const setup = (files: Record<string, string>) => {
  repo = createGitRepo(files);
  mkdirSync(join(repo.dir, 'work'));
};

const exec = (args: string[], extra: Record<string, string> = {}) =>
  runCli(['exec', 'rb.yaml', '--state-dir', join(repo.dir, '.state'), '--output', 'plain', ...args], {
    cwd: repo.dir,
    env: cliEnv({ WORK: join(repo.dir, 'work'), ...extra }),
  });

const lines = (name: string): string[] =>
  existsSync(join(repo.dir, 'work', name))
    ? readFileSync(join(repo.dir, 'work', name), 'utf8')
        .split('\n')
        .filter(Boolean)
    : [];
const go = () => writeFileSync(join(repo.dir, 'work', 'go'), '');
const journalText = () => {
  const runs = join(repo.dir, '.state', 'runs');
  return readdirSync(runs)
    .map((id) => readFileSync(join(runs, id, 'journal.jsonl'), 'utf8'))
    .join('\n');
};

describe('exec --resume: a step is skipped only when nothing it reads changed', () => {
  it('refuses --env production --resume of a run made with --env staging, and --force runs s1 again against production', async () => {
    setup({
      'rb.yaml': twoSteps(),
      'environments/staging.yaml': 'target: staging\n',
      'environments/production.yaml': 'target: production\n',
    });
    expect((await exec(['--env', 'staging'])).code).toBe(1);
    go();
    const refused = await exec(['--env', 'production', '--resume']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/environment.*'staging'.*'production'/);
    expect(refused.stderr).toContain('--force');
    expect(lines('s1')).toEqual(['staging']);
    expect(lines('s2')).toEqual(['staging']);
    const forced = await exec(['--env', 'production', '--resume', '--force']);
    expect(forced.code).toBe(0);
    expect(lines('s1')).toEqual(['staging', 'production']);
    expect(lines('s2')).toEqual(['staging', 'production']);
  });

  it('refuses a resume after a changed --var that run text reads as an environment variable', async () => {
    setup({ 'rb.yaml': twoSteps() });
    expect((await exec(['--var', 'target=a'])).code).toBe(1);
    go();
    const refused = await exec(['--var', 'target=b', '--resume']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/var 'target'/);
    expect(lines('s1')).toEqual(['a']);
    // The same var again: s1 is done and stays done.
    expect((await exec(['--var', 'target=a', '--resume'])).code).toBe(0);
    expect(lines('s1')).toEqual(['a']);
    expect(lines('s2')).toEqual(['a', 'a']);
  });

  it('refuses a resume after a changed --env-file value that run text reads', async () => {
    setup({ 'rb.yaml': twoSteps('$MODE') });
    writeFileSync(join(repo.dir, 'work', 'one.env'), 'MODE=one\n');
    writeFileSync(join(repo.dir, 'work', 'two.env'), 'MODE=two\n');
    expect((await exec(['--env-file', 'work/one.env'])).code).toBe(1);
    go();
    const refused = await exec(['--env-file', 'work/two.env', '--resume']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/env file.*'MODE'/);
    expect(lines('s1')).toEqual(['one']);
    expect((await exec(['--env-file', 'work/two.env', '--resume', '--force'])).code).toBe(0);
    expect(lines('s1')).toEqual(['one', 'two']);
  });

  it('refuses a resume when an --env-file value set at the crash is missing', async () => {
    setup({ 'rb.yaml': twoSteps('${API_TOKEN:-unset}') });
    writeFileSync(join(repo.dir, 'work', 'with.env'), 'API_TOKEN=tok-1234-abcd\nOTHER=x\n');
    writeFileSync(join(repo.dir, 'work', 'without.env'), 'OTHER=x\n');
    expect((await exec(['--env-file', 'work/with.env'])).code).toBe(1);
    go();
    const refused = await exec(['--env-file', 'work/without.env', '--resume']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/'API_TOKEN'/);
    expect(lines('s2')).toEqual(['tok-1234-abcd']);
  });

  it('counts a step changed when a `${{ env.X }}` value of its `env` changed', async () => {
    setup({ 'rb.yaml': twoSteps('${ZONE:-}', '\n    env:\n      ZONE: ${{ env.REGION }}') });
    expect((await exec([], { REGION: 'eu-west' })).code).toBe(1);
    go();
    const refused = await exec(['--resume'], { REGION: 'us-east' });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/'s1' changed since they were verified/);
    expect(lines('s1')).toEqual(['eu-west']);
    expect((await exec(['--resume', '--force'], { REGION: 'us-east' })).code).toBe(0);
    expect(lines('s1')).toEqual(['eu-west', 'us-east']);
  });

  it('refuses a resume after environments/NAME.yaml changed a var read only as an environment variable', async () => {
    setup({ 'rb.yaml': twoSteps(), 'environments/staging.yaml': 'target: old-host\n' });
    expect((await exec(['--env', 'staging'])).code).toBe(1);
    repo.write({ 'environments/staging.yaml': 'target: new-host\n' });
    repo.commit('staging moved');
    go();
    const refused = await exec(['--env', 'staging', '--resume']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/var 'target'/);
    expect(lines('s1')).toEqual(['old-host']);
  });

  it('counts a step changed when a `${{ env.X }}` its `when` reads changed', async () => {
    setup({ 'rb.yaml': twoSteps('ran', "\n    when: ${{ env.FLAVOUR == 'full' }}") });
    expect((await exec([], { FLAVOUR: 'full' })).code).toBe(1);
    go();
    const refused = await exec(['--resume'], { FLAVOUR: 'lite' });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/'s1' changed/);
  });

  it('refuses a resume when a declared secret set at the crash is missing, and journals no secret value nor its sha256', async () => {
    setup({ 'rb.yaml': twoSteps('$target').replace('vars:', 'secrets: [DB_PASSWORD]\nvars:') });
    const secret = 'pa55-word-of-the-day';
    expect((await exec([], { DB_PASSWORD: secret })).code).toBe(1);
    go();
    const refused = await exec(['--resume'], { DB_PASSWORD: '' });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/DB_PASSWORD/);
    expect(lines('s1')).toEqual(['none']);
    // A changed value is not a changed input (a rotated password): presence is what counts.
    expect((await exec(['--resume'], { DB_PASSWORD: 'another-pa55-word' })).code).toBe(0);
    expect(lines('s1')).toEqual(['none']);
    const text = journalText();
    expect(text).not.toContain(secret);
    expect(text).not.toContain(createHash('sha256').update(secret).digest('hex'));
  });

  it('resumes when a declared secret moved from the environment into the --env-file (it is set either way)', async () => {
    setup({ 'rb.yaml': twoSteps('$target').replace('vars:', 'secrets: [DB_PASSWORD]\nvars:') });
    writeFileSync(join(repo.dir, 'work', 'secret.env'), 'DB_PASSWORD=pa55-word-of-the-day\n');
    expect((await exec([], { DB_PASSWORD: 'pa55-word-of-the-day' })).code).toBe(1);
    go();
    const resumed = await exec(['--resume', '--env-file', 'work/secret.env'], { DB_PASSWORD: '' });
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(lines('s1')).toEqual(['none']);
  });

  it('records the inputs of the run in run-start, without values of secrets', async () => {
    setup({ 'rb.yaml': twoSteps(), 'environments/staging.yaml': 'target: staging\n' });
    writeFileSync(join(repo.dir, 'work', 'one.env'), 'MODE=one\n');
    expect((await exec(['--env', 'staging', '--env-file', 'work/one.env'])).code).toBe(1);
    const runs = join(repo.dir, '.state', 'runs');
    const [runId] = readdirSync(runs);
    const start = readJournal(join(runs, runId!, 'journal.jsonl')).records.find((r) => r.type === 'run-start')!;
    expect(start.inputs).toMatchObject({ environment: 'staging' });
    expect(Object.keys((start.inputs as { vars: object }).vars)).toContain('target');
    expect(Object.keys((start.inputs as { envFile: object }).envFile)).toEqual(['MODE']);
  });

  it('runs a done step again when a step whose outputs it reads runs again (--force after an edit)', async () => {
    const outputs = (token: string) => `runbook: 1
name: outs
steps:
  - id: s1
    run: |
      echo x >> "$WORK/s1"
      echo token=${token} >> "$RUNBOOK_OUTPUT"
    verify: test -s "$WORK/s1"
  - id: s2
    env:
      TOKEN: \${{ steps.s1.outputs.token }}
    run: echo "$TOKEN" >> "$WORK/s2"
    verify: test -s "$WORK/s2"
  - id: s3
    run: echo x >> "$WORK/s3"
    verify: test -e "$WORK/go"
`;
    setup({ 'rb.yaml': outputs('v1') });
    expect((await exec([])).code).toBe(1);
    repo.write({ 'rb.yaml': outputs('v2') });
    repo.commit('s1 publishes v2');
    go();
    expect((await exec(['--resume'])).code).toBe(2);
    expect((await exec(['--resume', '--force'])).code).toBe(0);
    expect(lines('s1')).toEqual(['x', 'x']);
    expect(lines('s2')).toEqual(['v1', 'v2']);
  });
});
