// Guarantee 3 — a crash never loses or doubles work. The engine is SIGKILLed at step boundaries
// and inside steps of a multi-step runbook with counters and outputs, then `--resume`d: the final
// state equals an uninterrupted run, no verified step runs twice, and the orphaned processes of
// the killed step never finish their work behind the resumed run. A sample runs by default;
// RUNBOOK_FULL_FAULTS=1 runs every kill point.
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { readJournal } from '../../src/engine/journal.js';
import { createGitRepo, type GitRepo } from '../helpers/git-repo.js';
import { cliEnv, exited, expectBuilt, runCli, startCli } from '../helpers/cli.js';
import { pidAlive, sleep, waitUntil } from './helpers/processes.js';

const stepCount = 5;
const full = process.env.RUNBOOK_FULL_FAULTS === '1';

/**
 * Step i counts its starts in c<i>, can be held (first attempt only) while `hold-<i>` exists,
 * then writes its state atomically and counts its completions in f<i>. s1 publishes an output
 * that s3 records, so outputs must survive a resume too.
 */
const runbook = () => {
  const steps = Array.from({ length: stepCount }, (_, index) => {
    const i = index + 1;
    const env = i === 3 ? `    env:\n      FROM_S1: \${{ steps.s1.outputs.token }}\n` : '';
    const value = i === 3 ? 'state-3 token=$FROM_S1' : `state-${i}`;
    return `  - id: s${i}
    run: |
      echo "$RUNBOOK_RUN_ID" >> "$WORK/c${i}"
      if [ -e "$WORK/hold-${i}" ] && mkdir "$WORK/held-${i}" 2> /dev/null; then
        echo $$ > "$WORK/pid${i}"
        while [ -e "$WORK/hold-${i}" ]; do sleep 0.05; done
      fi
      printf '%s\\n' "${value}" > "$WORK/state${i}.tmp"
      mv "$WORK/state${i}.tmp" "$WORK/state${i}"
${i === 1 ? '      echo "token=t-$RUNBOOK_RUN_ID" >> "$RUNBOOK_OUTPUT"\n' : ''}      echo done >> "$WORK/f${i}"
    verify: test -s "$WORK/state${i}"
${env}`;
  });
  return `runbook: 1\nname: crash\nsteps:\n${steps.join('')}`;
};

let repo: GitRepo;
beforeAll(() => expectBuilt(), 120_000);
afterEach(() => repo?.remove());

const work = () => join(repo.dir, 'work');
const stateDir = () => join(repo.dir, '.state');
const args = (...more: string[]) => ['exec', 'rb.yaml', '--state-dir', stateDir(), '--output', 'plain', ...more];
const env = () => cliEnv({ WORK: work(), RUNBOOK_KILL_GRACE_MS: '300' });
const lines = (name: string) =>
  existsSync(join(work(), name)) ? readFileSync(join(work(), name), 'utf8').split('\n').filter(Boolean) : [];
const counts = (prefix: string) => Array.from({ length: stepCount }, (_, i) => lines(`${prefix}${i + 1}`).length);
/** The observable result of the runbook: every state file. */
const finalState = () =>
  Object.fromEntries(
    Array.from({ length: stepCount }, (_, i) => [
      `state${i + 1}`,
      existsSync(join(work(), `state${i + 1}`)) ? readFileSync(join(work(), `state${i + 1}`), 'utf8') : undefined,
    ]),
  );
const journalFile = () => {
  const runs = join(stateDir(), 'runs');
  return join(runs, readdirSync(runs)[0]!, 'journal.jsonl');
};
const journalRecords = () =>
  existsSync(join(stateDir(), 'runs')) && readdirSync(join(stateDir(), 'runs')).length > 0 && existsSync(journalFile())
    ? readJournal(journalFile()).records
    : [];
const doneIds = () =>
  journalRecords()
    .filter((r) => r.type === 'step-done')
    .map((r) => String(r.id));

const setup = () => {
  repo = createGitRepo({ 'rb.yaml': runbook() });
  mkdirSync(work());
};

/** What an uninterrupted run leaves (the run id differs per run, so the token is normalised). */
let reference: Record<string, string | undefined>;
const normalise = (state: Record<string, string | undefined>) => JSON.parse(JSON.stringify(state).replace(/t-\d{8}T\d{6}Z-\d+/g, 't-RUN'));

describe('crash and --resume', () => {
  it('an uninterrupted run (the reference)', async () => {
    setup();
    const result = await runCli(args(), { cwd: repo.dir, env: env() });
    expect(result.code, result.stderr).toBe(0);
    expect(counts('c')).toEqual([1, 1, 1, 1, 1]);
    reference = normalise(finalState());
    expect(reference.state3).toMatch(/^state-3 token=t-RUN\n$/);
  });

  const inside = full ? [1, 2, 3, 4, 5] : [1, 3, 5];
  for (const i of inside) {
    it(`SIGKILL of the engine inside step s${i}, then --resume`, async () => {
      setup();
      writeFileSync(join(work(), `hold-${i}`), '');
      const child = startCli(args(), { cwd: repo.dir, env: env() });
      const orphan = Number(await waitUntil(() => lines(`pid${i}`)[0], `s${i} to be held`));
      child.kill('SIGKILL');
      await exited(child);
      const before = doneIds();
      expect(before).toEqual(Array.from({ length: i - 1 }, (_, k) => `s${k + 1}`));
      // The killed engine's step is still running in its own process group.
      expect(pidAlive(orphan)).toBe(true);

      const resumed = await runCli(args('--resume'), { cwd: repo.dir, env: env() });
      expect(resumed.code, resumed.stderr).toBe(0);
      // The orphan of the crashed run was ended, never left to finish alongside the re-run.
      expect(pidAlive(orphan)).toBe(false);
      expect(resumed.stderr).toMatch(
        new RegExp(`ended 1 process group\\(s\\) left running by the crashed run \\S+: step 's${i}' \\(pgid ${orphan}`),
      );
      rmSync(join(work(), `hold-${i}`));
      await sleep(200);
      expect(normalise(finalState())).toEqual(reference);
      // Verified steps ran once; the interrupted one started twice but completed once.
      expect(counts('c')).toEqual(Array.from({ length: stepCount }, (_, k) => (k + 1 === i ? 2 : 1)));
      expect(counts('f')).toEqual([1, 1, 1, 1, 1]);
      expect(journalRecords().at(-1)).toMatchObject({ type: 'run-end', outcome: 'success' });
    }, 60_000);
  }

  const boundaries = full ? [1, 2, 3, 4] : [2, 4];
  for (const i of boundaries) {
    it(`SIGKILL of the engine at the boundary after s${i}, then --resume`, async () => {
      setup();
      // Hold the next step so the kill lands between s<i>'s step-done and s<i+1>'s work.
      writeFileSync(join(work(), `hold-${i + 1}`), '');
      const child = startCli(args(), { cwd: repo.dir, env: env() });
      await waitUntil(() => doneIds().includes(`s${i}`), `s${i} done`, 30_000, 2);
      child.kill('SIGKILL');
      await exited(child);
      expect(doneIds()).toEqual(Array.from({ length: i }, (_, k) => `s${k + 1}`));
      // If s<i+1> had started, its held orphan must be ended by --resume; if not, nothing holds the re-run.
      await sleep(100);
      const orphan = lines(`pid${i + 1}`)[0];
      if (!orphan) rmSync(join(work(), `hold-${i + 1}`));
      const resumed = await runCli(args('--resume'), { cwd: repo.dir, env: env() });
      expect(resumed.code, resumed.stderr).toBe(0);
      if (orphan) {
        expect(pidAlive(Number(orphan))).toBe(false);
        expect(resumed.stderr).toMatch(/ended 1 process group\(s\) left running by the crashed run/);
        rmSync(join(work(), `hold-${i + 1}`));
      }
      await sleep(200);
      expect(normalise(finalState())).toEqual(reference);
      // Steps verified before the crash never ran again.
      expect(counts('c').slice(0, i)).toEqual(Array(i).fill(1));
      expect(counts('f')).toEqual([1, 1, 1, 1, 1]);
      const skipped = journalRecords()
        .filter((r) => r.type === 'step-skipped' && r.reason === 'done earlier in this run')
        .map((r) => r.id);
      expect(skipped).toEqual(Array.from({ length: i }, (_, k) => `s${k + 1}`));
    }, 60_000);
  }

  it('a torn last journal record stops --resume (exit 2) and runs nothing', async () => {
    setup();
    writeFileSync(join(work(), 'hold-3'), '');
    const child = startCli(args(), { cwd: repo.dir, env: env() });
    const orphan = Number(await waitUntil(() => lines('pid3')[0], 's3 to be held'));
    child.kill('SIGKILL');
    await exited(child);
    process.kill(-orphan, 'SIGKILL');
    // What a crash in the middle of a write leaves: half a record, no newline.
    appendFileSync(journalFile(), '{"seq":9,"t":"2026-11-26T00:00:00.000Z","type":"step-done","id":"s3","ha');
    const before = counts('c');
    const refused = await runCli(args('--resume'), { cwd: repo.dir, env: env() });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/journal .*journal\.jsonl:\d+: the last record is torn or corrupted.*--force/);
    expect(counts('c')).toEqual(before);
  }, 60_000);

  it('a runbook edited between the crash and --resume is detected (exit 2)', async () => {
    setup();
    writeFileSync(join(work(), 'hold-4'), '');
    const child = startCli(args(), { cwd: repo.dir, env: env() });
    const orphan = Number(await waitUntil(() => lines('pid4')[0], 's4 to be held'));
    child.kill('SIGKILL');
    await exited(child);
    process.kill(-orphan, 'SIGKILL');
    repo.write({ 'rb.yaml': runbook().replace('printf \'%s\\n\' "state-2"', 'printf \'%s\\n\' "state-2 edited"') });
    repo.commit('edit s2 after the crash');
    const before = counts('c');
    const refused = await runCli(args('--resume'), { cwd: repo.dir, env: env() });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/step\(s\) 's2' changed since they were verified/);
    expect(counts('c')).toEqual(before);
  }, 60_000);
});
