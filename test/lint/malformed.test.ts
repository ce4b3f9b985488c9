// Broken input of every kind through the built CLI: each must end in a positioned finding and exit
// 2 (or 1), quickly, and never in a stack trace. Needs dist/ (`npm test` builds it first).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const cli = resolve(import.meta.dirname, '../../bin/runbook.js');
if (!existsSync(resolve(import.meta.dirname, '../../dist/cli/index.js'))) throw new Error('dist/ is missing: run `npm run build` first');

const dir = mkdtempSync(join(tmpdir(), 'runbook-malformed-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const valid = `runbook: 1
name: sample
kind: backup
schedule: "0 2 * * *"
vars:
  db: app
steps:
  - id: dump
    run: pg_dump -d "$db" > /tmp/app.sql
    verify: test -s /tmp/app.sql
  - id: upload
    needs: [dump]
    run: rclone copy /tmp/app.sql remote:app
    verify: rclone lsf remote:app | grep -q app.sql
`;

const nested = (depth: number, open: string, close: string) =>
  `runbook: 1\nname: deep\nsteps: []\nx: ${open.repeat(depth)}1${close.repeat(depth)}\n`;
const indented = (depth: number) =>
  `runbook: 1\nname: deep\nsteps: []\nx:\n${Array.from({ length: depth }, (_, i) => `${'  '.repeat(i + 1)}k${i}:`).join('\n')} 1\n`;
const bomb = () => {
  let text = 'runbook: 1\nname: bomb\nsteps: []\na0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n';
  for (let i = 1; i < 12; i++)
    text += `a${i}: &a${i} [${Array(9)
      .fill(`*a${i - 1}`)
      .join(', ')}]\n`;
  return text;
};

/** name → file content. */
const cases: Record<string, string | Buffer> = {
  empty: '',
  'only-whitespace': '   \n\n  \n',
  'only-comment': '# nothing here\n',
  'document-separator-only': '---\n',
  'null-document': '~\n',
  'top-level-list': '- runbook: 1\n- name: x\n',
  'top-level-string': 'just a sentence\n',
  'top-level-number': '42\n',
  'top-level-bool': 'true\n',
  'two-documents': valid + '---\n' + valid,
  'binary-garbage': Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919 + 13) % 256)),
  'nul-bytes': Buffer.concat([Buffer.from('runbook: 1\nname: x\n'), Buffer.from([0, 0, 0]), Buffer.from('steps: []\n')]),
  'invalid-utf8': Buffer.concat([Buffer.from('runbook: 1\nname: caf'), Buffer.from([0xc3, 0x28]), Buffer.from('\nsteps: []\n')]),
  'lone-surrogate-bytes': Buffer.concat([Buffer.from('name: '), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from('\n')]),
  'utf16-bom': Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('runbook: 1\n', 'utf16le')]),
  'ten-megabytes':
    'runbook: 1\nname: big\nsteps:\n' + '# padding padding padding padding padding padding padding padding\n'.repeat(160_000),
  'alias-bomb': bomb(),
  'deep-flow-sequences': nested(1000, '[', ']'),
  'deep-flow-mappings': nested(1000, '{a: ', '}'),
  'deep-block-mappings': indented(1000),
  'deep-block-sequences': `runbook: 1\nname: deep\nsteps: []\nx:\n${Array.from({ length: 1000 }, (_, i) => `${'  '.repeat(i)}-`).join('\n')} 1\n`,
  'unclosed-double-quote': 'runbook: 1\nname: "x\nsteps: []\n',
  'unclosed-single-quote': "runbook: 1\nname: 'x\nsteps: []\n",
  'unclosed-flow-sequence': 'runbook: 1\nname: x\nsteps: [\n',
  'unclosed-flow-mapping': 'runbook: 1\nname: x\nsteps: [{id: a, run: x\n',
  'tab-indentation': 'runbook: 1\nname: x\nsteps:\n\t- id: a\n',
  'duplicate-keys': 'runbook: 1\nname: x\nname: y\nsteps: []\n',
  'bad-indentation': 'runbook: 1\n name: x\nsteps: []\n',
  'stray-colon': 'runbook: 1\nname: x: y: z\nsteps: []\n',
  'undefined-alias': 'runbook: 1\nname: *nope\nsteps: []\n',
  'unknown-tag': 'runbook: 1\nname: !!python/object x\nsteps: []\n',
  'yaml-1.1-directive': '%YAML 1.1\n---\n' + valid,
  'directive-without-document-start': '%YAML 1.2\n' + valid,
  'merge-key': 'base: &b {timeout: 1m}\n' + valid.replace('  - id: dump\n', '  - <<: *b\n    id: dump\n'),
  'octal-var': valid.replace('db: app', 'db: 0644'),
  'yaml11-boolean': valid.replace('db: app', 'db: off'),
  'wrong-version': valid.replace('runbook: 1', 'runbook: 2'),
  'missing-name': valid.replace('name: sample\n', ''),
  'missing-steps': valid.slice(0, valid.indexOf('steps:')),
  'steps-a-mapping': 'runbook: 1\nname: x\nsteps:\n  dump: {run: x}\n',
  'steps-a-string': 'runbook: 1\nname: x\nsteps: do it\n',
  'step-a-string': 'runbook: 1\nname: x\nsteps:\n  - pg_dump app\n',
  'step-a-list': 'runbook: 1\nname: x\nsteps:\n  - [a, b]\n',
  'id-a-number': valid.replace('id: dump', 'id: 12.5'),
  'needs-a-number': valid.replace('needs: [dump]', 'needs: 3'),
  'verify-a-list': valid.replace('verify: test -s /tmp/app.sql', 'verify: [a]'),
  'vars-a-list': valid.replace('vars:\n  db: app', 'vars: [db]'),
  'bad-var-name': valid.replace('db: app', '1db: app'),
  'unknown-kind': valid.replace('kind: backup', 'kind: nightly'),
  'unknown-action': valid.replace('run: rclone copy /tmp/app.sql remote:app', 'uses: rclone.copy'),
  'with-a-string': valid.replace('run: rclone copy /tmp/app.sql remote:app', 'uses: http.wait\n    with: fast'),
  'truncated-quarter': valid.slice(0, Math.floor(valid.length / 4)),
  'truncated-before-verify': valid.slice(0, valid.indexOf('    verify: test -s')),
  'truncated-mid-key': valid.slice(0, valid.indexOf('verify') + 3),
  'truncated-mid-quote': valid.slice(0, valid.indexOf('"0 2') + 4),
  'include-missing': valid.replace('steps:', 'include: [nowhere.yaml]\nsteps:'),
  'include-self': valid.replace('steps:', 'include: [include-self.yaml]\nsteps:'),
  'include-a-number': valid.replace('steps:', 'include: 5\nsteps:'),
  'include-folder': valid.replace('steps:', 'include: [include-folder.yaml.d]\nsteps:'),
  'very-long-line': `runbook: 1\nname: x\ndescription: ${'a'.repeat(500_000)}\nsteps: []\n`,
  'many-steps-no-verify': `runbook: 1\nname: x\nsteps:\n${Array.from({ length: 500 }, (_, i) => `  - id: s${i}\n    run: echo ${i}\n`).join('')}`,
  'crlf-line-endings': valid.replace('verify: test -s /tmp/app.sql', 'verify: "true"').replace(/\n/g, '\r\n'),
  'unclosed-expression': valid.replace('run: rclone copy /tmp/app.sql remote:app', 'uses: http.wait\n    with: { url: "${{ vars.db" }'),
  'control-characters': 'runbook: 1\nname: "\u0007\u001b[31m"\nsteps: []\n',
};

describe('malformed runbooks', () => {
  it('has at least 50 cases', () => expect(Object.keys(cases).length).toBeGreaterThanOrEqual(50));
  for (const [name, content] of Object.entries(cases)) {
    it(name, () => {
      const file = join(dir, `${name}.yaml`);
      writeFileSync(file, content);
      if (name === 'include-folder') mkdirSync(`${file}.d`, { recursive: true });
      // Other work shares these 2 cores: measure the CLI's own CPU time (bash's `times`), not the clock.
      const result = spawnSync(
        'bash',
        ['-c', '"$@"; code=$?; times >&2; exit $code', 'bash', process.execPath, cli, 'lint', file, '--no-shellcheck'],
        {
          encoding: 'utf8',
          timeout: 20_000,
          env: { ...process.env, NO_COLOR: '1' },
        },
      );
      const lines = result.stderr.trimEnd().split('\n');
      const cpuSeconds = [...lines[lines.length - 1]!.matchAll(/(\d+)m([\d.]+)s/g)].reduce(
        (sum, m) => sum + Number(m[1]) * 60 + Number(m[2]),
        0,
      );
      const output = result.stdout + lines.slice(0, -2).join('\n');
      expect(result.status, output).toBeOneOf([1, 2]);
      expect(output).toMatch(new RegExp(`${name.replace(/[.]/g, '\\.')}\\.yaml[^:\\s]*:\\d+:\\d+: `));
      expect(output).not.toMatch(/^ {4}at /m);
      expect(output).not.toMatch(/internal error/);
      expect(cpuSeconds).toBeLessThan(1);
    });
  }
});
