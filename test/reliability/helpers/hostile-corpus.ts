// A generated corpus of malformed and hostile runbooks. Every case keeps (or would keep, were it
// read leniently) a first step that touches `MARK`: if `runbook exec` ran anything, the marker shows.

export interface CorpusCase {
  name: string;
  /** The runbook file's content. */
  content: string | Buffer;
  /** Other files of the repository, relative to the runbook's folder. */
  extra?: Record<string, string>;
}

/** A valid runbook whose steps would touch the marker; each case breaks it one way. */
export const validRunbook = (mark: string): string => `runbook: 1
name: hostile
description: would touch a marker if it ran
vars:
  db: app
steps:
  - id: mark
    run: touch ${JSON.stringify(mark)}
    verify: test -e ${JSON.stringify(mark)}
    timeout: 10s
  - id: second
    run: touch ${JSON.stringify(`${mark}.second`)}
    verify: test -e ${JSON.stringify(`${mark}.second`)}
    timeout: 10s
`;

const bomb = (base: string) => {
  let text = `${base}a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n`;
  for (let i = 1; i < 12; i++)
    text += `a${i}: &a${i} [${Array(9)
      .fill(`*a${i - 1}`)
      .join(', ')}]\n`;
  return text;
};

/** Replaces the first occurrence of `find`, failing loudly if the template changed. */
const edit = (text: string, find: string, replace: string): string => {
  if (!text.includes(find)) throw new Error(`corpus template lacks ${JSON.stringify(find)}`);
  return text.replace(find, replace);
};

/** Wrong values for a field, as YAML flow text. */
const wrongValues: Record<string, string[]> = {
  string: ['[]', '{}', '[a, b]', '{a: 1}', '12', 'true', '~'],
  number: ['"one"', '[]', '{}', '-1', '1.5', 'true'],
  list: ['"x"', '{}', '12', 'true'],
  map: ['"x"', '[]', '12', 'true'],
  duration: ['"soon"', '10', '"-5m"', '"1 hour"', '[]', '"10x"'],
  boolean: ['"yes"', '1', '[]', '{}', '"false"'],
};

const topLevel: [string, keyof typeof wrongValues][] = [
  ['name', 'string'],
  ['description', 'string'],
  ['kind', 'string'],
  ['vars', 'map'],
  ['secrets', 'list'],
  ['requires', 'list'],
  ['rto', 'duration'],
  ['include', 'list'],
];

const stepFields: [string, keyof typeof wrongValues][] = [
  ['id', 'string'],
  ['name', 'string'],
  ['run', 'string'],
  ['needs', 'list'],
  ['when', 'string'],
  ['env', 'map'],
  ['timeout', 'duration'],
  ['retries', 'number'],
  ['confirm', 'string'],
  ['continue_on_error', 'boolean'],
];

export const buildCorpus = (mark: string): CorpusCase[] => {
  const valid = validRunbook(mark);
  const head = 'runbook: 1\nname: hostile\nsteps:\n  - id: mark\n';
  const cases: CorpusCase[] = [];
  const add = (name: string, content: string | Buffer, extra?: Record<string, string>) => cases.push({ name, content, extra });

  // Bytes and YAML.
  add('empty', '');
  add('only-comment', '# nothing\n');
  add('top-level-list', `- ${valid.replace(/\n/g, '\n  ')}`);
  add('top-level-string', 'touch the marker\n');
  add('two-documents', `${valid}---\n${valid}`);
  add('invalid-utf8', Buffer.concat([Buffer.from(valid.replace('would touch', 'caf')), Buffer.from([0xc3, 0x28, 0x0a])]));
  add(
    'invalid-utf8-in-run',
    Buffer.concat([
      Buffer.from(valid.slice(0, valid.indexOf('touch'))),
      Buffer.from([0xff, 0xfe]),
      Buffer.from(valid.slice(valid.indexOf('touch'))),
    ]),
  );
  add('nul-byte', `${valid}\0\n`);
  add('utf16', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(valid, 'utf16le')]));
  add('fifty-megabytes', valid + '# padding '.repeat(5_300_000));
  add('yaml-bomb', bomb(valid));
  add('yaml-bomb-used', bomb(valid).replace('description: would touch a marker if it ran', 'description: *a11'));
  add('deep-flow', `${valid}x: ${'['.repeat(2000)}1${']'.repeat(2000)}\n`);
  add('deep-block', `${valid}x:\n${Array.from({ length: 300 }, (_, i) => `${'  '.repeat(i + 1)}k${i}:`).join('\n')} 1\n`);
  add('yaml-1.1-directive', `%YAML 1.1\n---\n${valid}`);
  add('yaml-1.3-directive', `%YAML 1.3\n---\n${valid}`);
  add('merge-key', edit(valid, '  - id: second\n', '  - <<: {timeout: 1m}\n    id: second\n'));
  add('merge-key-alias', `base: &b {timeout: 1m}\n${edit(valid, '  - id: second\n', '  - <<: *b\n    id: second\n')}`);
  add('duplicate-top-key', edit(valid, 'name: hostile\n', 'name: hostile\nname: other\n'));
  add('duplicate-step-key', edit(valid, '    timeout: 10s\n', '    timeout: 10s\n    timeout: 20s\n'));
  add('duplicate-var', edit(valid, '  db: app\n', '  db: app\n  db: other\n'));
  add('octal-var', edit(valid, 'db: app', 'db: 0755'));
  add('octal-negative', edit(valid, 'db: app', 'db: -0644'));
  for (const word of ['no', 'yes', 'on', 'off', 'Y', 'N', 'NO', 'Off']) add(`yaml11-bool-${word}`, edit(valid, 'db: app', `db: ${word}`));
  add('tab-indent', edit(valid, '  - id: mark\n', '\t- id: mark\n'));
  add('bad-indent', edit(valid, '    verify: test -e', '      verify: test -e'));
  add('unclosed-quote', edit(valid, 'description: would', 'description: "would'));
  add('unclosed-flow', edit(valid, 'vars:\n  db: app', 'vars: {db: app'));
  add('undefined-alias', edit(valid, 'description: would touch a marker if it ran', 'description: *nowhere'));
  add('unknown-tag', edit(valid, 'description: would', 'description: !!python/object would'));
  add('custom-tag', edit(valid, 'description: would', 'description: !shell would'));
  add('binary-tag', edit(valid, 'description: would touch a marker if it ran', 'description: !!binary aGVsbG8='));
  add('truncated-half', valid.slice(0, Math.floor(valid.length / 2)));
  add(
    'shell-unclosed-quote-in-verify',
    edit(valid, `verify: test -e ${JSON.stringify(`${mark}.second`)}`, `verify: test -e "${mark}.second`),
  );
  add(
    'shell-unclosed-if-in-run',
    edit(
      valid,
      `    run: touch ${JSON.stringify(`${mark}.second`)}\n`,
      `    run: |\n      if true; then\n        touch ${JSON.stringify(`${mark}.second`)}\n`,
    ),
  );
  add('truncated-mid-key', valid.slice(0, valid.indexOf('verify') + 3));
  add('stray-colon', edit(valid, 'description: would touch a marker if it ran', 'description: a: b: c'));
  add('control-chars', edit(valid, 'description: would', 'description: "\\u001b[31m\\u0007" would'));

  // The schema: required fields, unknown fields, wrong types.
  add('no-version', edit(valid, 'runbook: 1\n', ''));
  add('version-2', edit(valid, 'runbook: 1', 'runbook: 2'));
  add('version-string', edit(valid, 'runbook: 1', 'runbook: "1"'));
  add('no-name', edit(valid, 'name: hostile\n', ''));
  add('no-steps', valid.slice(0, valid.indexOf('steps:')));
  add('unknown-top-field', `${valid}stepz: []\n`);
  add('unknown-step-field', edit(valid, '    timeout: 10s\n', '    timeout: 10s\n    verfiy: true\n'));
  add('name-with-spaces', edit(valid, 'name: hostile', 'name: "host ile; rm -rf /"'));
  add('kind-unknown', edit(valid, 'vars:', 'kind: nightly\nvars:'));
  add('bad-var-name', edit(valid, 'db: app', '1db: app'));
  add('var-name-with-dash-dollar', edit(valid, 'db: app', '"d$b": app'));
  add('secret-lowercase-name', edit(valid, 'vars:', 'secrets: ["pass word"]\nvars:'));
  add('steps-mapping', `${head.replace('  - id: mark\n', '  mark:\n')}    run: touch ${JSON.stringify(mark)}\n`);
  add('steps-string', 'runbook: 1\nname: hostile\nsteps: touch the marker\n');
  add('step-string', `runbook: 1\nname: hostile\nsteps:\n  - touch ${JSON.stringify(mark)}\n`);
  add(
    'step-run-and-uses',
    edit(valid, '    timeout: 10s\n', '    timeout: 10s\n    uses: http.wait\n    with: {url: "http://127.0.0.1:1"}\n'),
  );
  add('step-nothing-to-do', edit(valid, `    run: touch ${JSON.stringify(mark)}\n`, ''));
  add('step-id-invalid', edit(valid, 'id: mark', 'id: "mark; rm"'));
  add('step-id-dot', edit(valid, 'id: mark', 'id: a.b'));
  add('verify-list', edit(valid, `verify: test -e ${JSON.stringify(mark)}`, 'verify: [a]'));
  add('verify-object-no-run', edit(valid, `verify: test -e ${JSON.stringify(mark)}`, 'verify: {retries: 3}'));
  add(
    'verify-retries-negative',
    edit(valid, `verify: test -e ${JSON.stringify(mark)}`, `verify: {run: test -e ${JSON.stringify(mark)}, retries: -1}`),
  );
  add(
    'verify-interval-bad',
    edit(valid, `verify: test -e ${JSON.stringify(mark)}`, `verify: {run: test -e ${JSON.stringify(mark)}, interval: fast}`),
  );
  add('unknown-action', edit(valid, `    run: touch ${JSON.stringify(`${mark}.second`)}\n`, '    uses: rclone.copy\n    with: {}\n'));
  add('action-with-string', edit(valid, `    run: touch ${JSON.stringify(`${mark}.second`)}\n`, '    uses: http.wait\n    with: fast\n'));
  add(
    'action-missing-input',
    edit(valid, `    run: touch ${JSON.stringify(`${mark}.second`)}\n`, '    uses: postgres.dump\n    with: {database: app}\n'),
  );
  add(
    'action-unknown-input',
    edit(
      valid,
      `    run: touch ${JSON.stringify(`${mark}.second`)}\n`,
      '    uses: http.wait\n    with: {url: "http://127.0.0.1:1/", method: PUT, evil: 1}\n',
    ),
  );
  add('cleanup-string', `${valid}cleanup: rm -rf /\n`);
  add('cleanup-step-no-verify', `${valid}cleanup:\n  - id: c\n    run: touch ${JSON.stringify(mark)}\n`);
  for (const [field, type] of topLevel) {
    for (const [index, value] of wrongValues[type]!.entries()) {
      const text = valid.includes(`\n${field}:`)
        ? valid.replace(new RegExp(`\\n${field}:[^\\n]*(\\n  [^\\n]*)*`), `\n${field}: ${value}`)
        : edit(valid, 'steps:', `${field}: ${value}\nsteps:`);
      add(`top-${field}-${type}-${index}`, text);
    }
  }
  for (const [field, type] of stepFields) {
    for (const [index, value] of wrongValues[type]!.entries()) {
      if (field === 'id' && value === '12') continue; // a number id is a separate case below
      const text = new RegExp(`\\n    ${field}:`).test(valid.slice(valid.indexOf('- id: mark'), valid.indexOf('- id: second')))
        ? valid.replace(new RegExp(`\\n    ${field}:[^\\n]*`), `\n    ${field}: ${value}`)
        : edit(valid, '    timeout: 10s\n', `    timeout: 10s\n    ${field}: ${value}\n`);
      add(`step-${field}-${type}-${index}`, text);
    }
  }
  add('step-id-number', edit(valid, 'id: mark', 'id: 12'));

  // Semantics: what parses but must not run.
  add('duplicate-step-id', edit(valid, 'id: second', 'id: mark'));
  add('needs-unknown', edit(valid, '  - id: second\n', '  - id: second\n    needs: [nowhere]\n'));
  add(
    'needs-cycle',
    edit(edit(valid, '  - id: mark\n', '  - id: mark\n    needs: [second]\n'), '  - id: second\n', '  - id: second\n    needs: [mark]\n'),
  );
  add('needs-self', edit(valid, '  - id: mark\n', '  - id: mark\n    needs: [mark]\n'));
  add('missing-verify', edit(valid, `    verify: test -e ${JSON.stringify(`${mark}.second`)}\n`, ''));
  for (const trivial of ['true', '":"', '"exit 0"', '"echo ok"'])
    add(
      `trivial-verify-${trivial.replace(/\W/g, '')}`,
      edit(valid, `verify: test -e ${JSON.stringify(`${mark}.second`)}`, `verify: ${trivial}`),
    );
  add('expression-in-run', edit(valid, `run: touch ${JSON.stringify(mark)}`, `run: touch ${JSON.stringify(mark)}; echo \${{ vars.db }}`));
  add(
    'expression-in-verify',
    edit(valid, `verify: test -e ${JSON.stringify(mark)}`, `verify: test -e ${JSON.stringify(mark)} && test \${{ vars.db }}`),
  );
  add(
    'expression-in-run-block',
    edit(
      valid,
      `    run: touch ${JSON.stringify(`${mark}.second`)}\n`,
      `    run: |\n      touch ${JSON.stringify(`${mark}.second`)}\n      rm -rf "\${{ vars.db }}"\n`,
    ),
  );
  add('expression-unclosed', edit(valid, '  - id: second\n', '  - id: second\n    env: {X: "${{ vars.db"}\n'));
  add('expression-syntax', edit(valid, '  - id: second\n', '  - id: second\n    when: ${{ vars.db == }}\n'));
  add('expression-unknown-root', edit(valid, '  - id: second\n', '  - id: second\n    env: {X: "${{ process.env.HOME }}"}\n'));
  add('expression-unknown-function', edit(valid, '  - id: second\n', '  - id: second\n    when: ${{ exec("touch /tmp/x") }}\n'));
  add('expression-bad-escape', edit(valid, '  - id: second\n', '  - id: second\n    when: ${{ vars.db == "\\v" }}\n'));
  add('undefined-var', edit(valid, '  - id: second\n', '  - id: second\n    env: {X: "${{ vars.nope }}"}\n'));
  add('undefined-secret', edit(valid, '  - id: second\n', '  - id: second\n    env: {X: "${{ secrets.NOPE }}"}\n'));
  add(
    'secret-in-with',
    edit(
      valid,
      `    run: touch ${JSON.stringify(`${mark}.second`)}\n`,
      '    uses: http.wait\n    with: {url: "http://u:${{ secrets.PW }}@127.0.0.1:1/"}\n',
    ).replace('vars:', 'secrets: [PW]\nvars:'),
  );
  add('unknown-step-output', edit(valid, '  - id: second\n', '  - id: second\n    env: {X: "${{ steps.nope.outputs.x }}"}\n'));
  add('bad-timeout', edit(valid, 'timeout: 10s', 'timeout: 10 seconds'));
  add('bad-schedule', edit(valid, 'vars:', 'kind: backup\nschedule: "61 25 * * *"\nwindow: 10m\nrpo: 26h\nvars:'));
  add('bad-rpo', edit(valid, 'vars:', 'rpo: yesterday\nvars:'));

  // Includes.
  add('include-missing', edit(valid, 'steps:', 'include: [nowhere.yaml]\nsteps:'));
  add('include-self', edit(valid, 'steps:', 'include: [include-self.yaml]\nsteps:'));
  add('include-cycle', edit(valid, 'steps:', 'include: [cycle-b.yaml]\nsteps:'), {
    'cycle-b.yaml': `runbook: 1\nname: cycle-b\ninclude: [include-cycle.yaml]\nsteps:\n  - id: b\n    run: touch ${JSON.stringify(mark)}\n    verify: test -e ${JSON.stringify(mark)}\n`,
  });
  add('include-escapes-repo', edit(valid, 'steps:', 'include: [../../../../../../etc/hostname]\nsteps:'));
  add('include-absolute', edit(valid, 'steps:', 'include: [/etc/passwd]\nsteps:'));
  add('include-folder', edit(valid, 'steps:', 'include: [sub]\nsteps:'), { 'sub/.keep': '' });
  add('include-malformed', edit(valid, 'steps:', 'include: [broken-inc.yaml]\nsteps:'), {
    'broken-inc.yaml': 'runbook: 1\nname: broken\nsteps: [\n',
  });
  add('include-invalid-schema', edit(valid, 'steps:', 'include: [bad-inc.yaml]\nsteps:'), {
    'bad-inc.yaml': `runbook: 1\nname: bad-inc\nsteps:\n  - id: x\n    run: [touch]\n`,
  });
  add('include-duplicate-ids', edit(valid, 'steps:', 'include: [{path: inc-a.yaml, id: twice}, {path: inc-a.yaml, id: twice}]\nsteps:'), {
    'inc-a.yaml': `runbook: 1\nname: inc-a\nsteps:\n  - id: mark\n    run: touch ${JSON.stringify(mark)}\n    verify: test -e ${JSON.stringify(mark)}\n`,
  });
  add('include-bomb', edit(valid, 'steps:', 'include: [bomb-inc.yaml]\nsteps:'), {
    'bomb-inc.yaml': bomb('runbook: 1\nname: bomb-inc\nsteps: []\n'),
  });
  add('include-number', edit(valid, 'steps:', 'include: 5\nsteps:'));
  add('include-yaml11', edit(valid, 'steps:', 'include: [y11.yaml]\nsteps:'), {
    'y11.yaml': `%YAML 1.1\n---\nrunbook: 1\nname: y11\nsteps: []\n`,
  });
  return cases;
};
