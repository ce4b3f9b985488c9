// Guarantee 8 — bad runbooks are refused, not half-run: a generated corpus of malformed and
// hostile runbooks through `runbook exec` (not lint). Each must exit 2 with a positioned
// `file:line:col:` message within 1 s of CPU time, and run nothing (no marker file appears).
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCorpus, validRunbook } from './helpers/hostile-corpus.js';
import { cli, cliEnv, expectBuilt } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'rel-hostile-'));
const repoDir = join(dir, 'repo');
const markers = join(dir, 'markers');
mkdirSync(join(repoDir, 'runbooks'), { recursive: true });
mkdirSync(markers);
// A repository, so "escaping the repository" has a meaning; nothing is committed (--allow-dirty).
execFileSync('git', ['init', '-q', repoDir]);

const corpus = buildCorpus(join(markers, 'MARK'));
const cases = corpus.map((c) => ({ ...c, mark: join(markers, c.name) }));

/** Two runs at a time: the machine has 2 cores, shared. */
let slots = 2;
const waiting: (() => void)[] = [];
const acquire = async () => {
  while (slots === 0) await new Promise<void>((resolve) => waiting.push(resolve));
  slots--;
};
const release = () => {
  slots++;
  waiting.shift()?.();
};

/** `runbook exec` under bash, whose `times` reports the CLI's own CPU time whatever the load. */
const execRunbook = async (file: string, stateDir = join(dir, 'state')) => {
  await acquire();
  try {
    return await new Promise<{ code: number | null; stdout: string; stderr: string; cpuSeconds: number }>((resolve) => {
      const child = spawn(
        'bash',
        [
          '-c',
          '"$@"; code=$?; times >&2; exit $code',
          'bash',
          process.execPath,
          cli,
          'exec',
          file,
          '--allow-dirty',
          '--yes',
          '--state-dir',
          stateDir,
          '--output',
          'plain',
        ],
        { cwd: repoDir, env: cliEnv(), stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      child.on('close', (code) => {
        clearTimeout(timer);
        const lines = stderr.trimEnd().split('\n');
        const cpuSeconds = [...(lines.at(-1) ?? '').matchAll(/(\d+)m([\d.]+)s/g)].reduce(
          (sum, m) => sum + Number(m[1]) * 60 + Number(m[2]),
          0,
        );
        resolve({ code, stdout, stderr: lines.slice(0, -2).join('\n'), cpuSeconds });
      });
    });
  } finally {
    release();
  }
};

beforeAll(() => expectBuilt(), 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('runbook exec refuses hostile runbooks', () => {
  it('has at least 200 distinct cases', () => {
    expect(new Set(cases.map((c) => c.name)).size).toBe(cases.length);
    expect(cases.length).toBeGreaterThanOrEqual(200);
  });

  it('runs the valid template (the marker check is not vacuous)', async () => {
    const mark = join(markers, 'valid');
    const file = join(repoDir, 'runbooks', 'valid.yaml');
    writeFileSync(file, validRunbook(mark));
    const result = await execRunbook(file, join(dir, 'valid-state'));
    expect(result.code, result.stderr).toBe(0);
    expect(existsSync(mark)).toBe(true);
  }, 30_000);

  for (const c of cases) {
    it.concurrent(
      c.name,
      async () => {
        const file = join(repoDir, 'runbooks', `${c.name}.yaml`);
        const content = typeof c.content === 'string' ? c.content.replaceAll(join(markers, 'MARK'), c.mark) : c.content;
        writeFileSync(file, content);
        for (const [path, text] of Object.entries(c.extra ?? {})) {
          mkdirSync(dirname(join(repoDir, 'runbooks', path)), { recursive: true });
          writeFileSync(join(repoDir, 'runbooks', path), text.replaceAll(join(markers, 'MARK'), c.mark));
        }
        const result = await execRunbook(file, join(dir, 'state', c.name));
        const output = `${result.stdout}\n${result.stderr}`;
        expect(result.code, output).toBe(2);
        expect(output).toMatch(/\.yaml:\d+:\d+: /);
        const positions = [...output.matchAll(/\.yaml:(\d+):(\d+): /g)];
        expect(
          positions.every((m) => Number(m[1]) >= 1 && Number(m[2]) >= 1),
          output,
        ).toBe(true);
        expect(output).not.toMatch(/^ {4}at /m);
        expect(output).not.toMatch(/internal error/i);
        expect(result.cpuSeconds, output).toBeLessThan(1);
        expect(existsSync(c.mark) || existsSync(`${c.mark}.second`), 'a step ran').toBe(false);
        expect(existsSync(join(dir, 'state', c.name, 'runs')), 'a run was started').toBe(false);
      },
      60_000,
    );
  }
});
