// RECOVERY.md for people without the tool: the plan that exec runs, rendered as Markdown whose
// ```bash blocks, pasted in order into one strict shell, do what `runbook exec` does.
import { existsSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { findAction } from '../actions/index.js';
import { definitionsText, functionsFor } from '../actions/library.js';
import { shellTexts } from './plan-text.js';
import { debianPackageOf } from '../engine/debian-packages.js';
import { findProviders } from '../engine/provided-commands.js';
import { resolvePlan } from '../engine/resolve.js';
import { decideWhenUpFront } from '../engine/step-shell.js';
import type { Plan, PlannedStep } from '../engine/plan-types.js';
import { createMasker } from '../engine/mask.js';
import { formatDuration } from '../runbook/duration.js';
import { shellQuote } from '../shell/quote.js';

/** Options of {@link renderDocs}. */
export interface DocsOptions {
  /** `--env NAME` for every file. @default `production` when environments/production.yaml exists beside a runbook, else none */
  env?: string;
  /** The environment vars may refer to (`${{ env.X }}`). Secret values in it are never printed. @default process.env */
  processEnv?: Record<string, string | undefined>;
  /** The file the document is written to, named in the command that regenerates it. @default 'RECOVERY.md' */
  output?: string;
  /** `--env-file` as given on the command line, repeated in the regenerate command. */
  envFile?: string;
  /** `--var K=V` for every file, typed as exec types them; repeated in the regenerate command. @default none */
  vars?: Record<string, string>;
}

/** The command that regenerates the document: printed in its header and by `--check`. */
export const docsCommandLine = (files: readonly string[], options: Pick<DocsOptions, 'env' | 'envFile' | 'output' | 'vars'> = {}): string =>
  [
    'runbook docs',
    ...files.map(shellQuote),
    ...(options.env ? ['--env', shellQuote(options.env)] : []),
    ...Object.entries(options.vars ?? {}).flatMap(([name, value]) => ['--var', shellQuote(`${name}=${value}`)]),
    ...(options.envFile ? ['--env-file', shellQuote(options.envFile)] : []),
    '-o',
    shellQuote(options.output ?? 'RECOVERY.md'),
  ].join(' ');

/** The environment a file is documented for: the one asked for, else production when it exists. */
export const chooseEnvironment = (file: string, env: string | undefined): string | undefined =>
  env ?? (existsSync(join(dirname(file), 'environments', 'production.yaml')) ? 'production' : undefined);

// Secrets are resolved as markers, never as values: the document cannot print what it never had.
const marker = (name: string) => `\u0001secret:${name}\u0001`;
const markerPattern = /\u0001secret:([A-Za-z_][A-Za-z0-9_]*)\u0001/g;

const envText = (value: unknown): string =>
  value === null || value === undefined ? '' : typeof value === 'object' ? JSON.stringify(value) : String(value);

/** `export NAME=value`, quoted for bash; a value built from secrets refers to them as `${SECRET}`. */
const exportLine = (name: string, value: string): string => {
  if (!value.includes('\u0001')) return `export ${name}=${shellQuote(value)}`;
  const parts = value.split(markerPattern);
  const text = parts.map((part, index) => (index % 2 ? `\${${part}}` : part.replace(/[\\"$`]/g, (c) => `\\${c}`))).join('');
  return `export ${name}="${text}"`;
};

/** A fenced block; `bash` blocks are what the reader pastes in order, `sh` ones what they adapt first. */
const fence = (text: string, language: 'bash' | 'sh' = 'bash'): string => {
  const body = text.replace(/\n+$/, '');
  // A block that itself holds ``` needs a longer fence.
  const longest = Math.max(2, ...[...body.matchAll(/`{3,}/g)].map((m) => m[0].length));
  const ticks = '`'.repeat(longest + 1);
  return `${ticks}${language}\n${body}\n${ticks}`;
};

const inline = (text: string): string => {
  const longest = Math.max(0, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
  const ticks = '`'.repeat(longest + 1);
  return longest ? `${ticks} ${text} ${ticks}` : `\`${text}\``;
};

const seconds = (ms: number): string => String(ms / 1000);

// Each step's shell runs in its own subshell, as exec gives it its own bash: its traps, temporary
// folders, variables and `exit` end with it, not with the reader's shell.
const subshell = (text: string): string => `(\n${text.replace(/\n+$/, '')}\n)`;

/** The shell-library functions the plan's steps call, defined once and exported for the checks' child bash. */
const definitionsBlock = (plan: Plan): string | undefined => {
  const texts = shellTexts([...plan.steps, ...plan.cleanup]);
  const text = definitionsText(texts);
  return text ? `${text}export -f ${functionsFor(texts).join(' ')}` : undefined;
};

/** Whether the plan's steps ask this tool which backup is trusted (`runbook backups --pick`, lib/backup.sh). */
const callsRunbook = (plan: Plan): boolean =>
  functionsFor(shellTexts([...plan.steps, ...plan.cleanup])).some(
    (name) => name === 'rb_backup_trust_args' || name === 'rb_backup_resolve',
  );

const heredocDelimiter = (text: string): string => {
  let delimiter = 'RUNBOOK_CHECK';
  while (text.split('\n').includes(delimiter)) delimiter += '_';
  return delimiter;
};

const outputReferences = (step: PlannedStep): { step: string; key: string }[] => {
  const texts = [step.run ?? '', step.verify.run, ...Object.values(step.env)].join('\n');
  const found = new Map<string, { step: string; key: string }>();
  for (const match of texts.matchAll(/\$\{\{\s*steps\.([A-Za-z0-9_-]+)\.outputs\.([A-Za-z0-9_-]+)\s*\}\}/g)) {
    found.set(`${match[1]}.${match[2]}`, { step: match[1]!, key: match[2]! });
  }
  return [...found.values()];
};

/** Vars exported once at the top: the plan's, and those of includes wherever all steps agree. */
const collectGlobals = (plan: Plan): Record<string, string> => {
  const globals: Record<string, string> = Object.fromEntries(Object.entries(plan.vars).map(([k, v]) => [k, envText(v)]));
  const seen = new Map<string, string | null>();
  for (const step of [...plan.steps, ...plan.cleanup]) {
    for (const [key, value] of Object.entries(step.env)) {
      if (key in globals || value.includes('\u0001')) continue;
      const before = seen.get(key);
      seen.set(key, before === undefined || before === value ? value : null);
    }
  }
  for (const [key, value] of seen) if (value !== null) globals[key] = value;
  return globals;
};

interface StepContext {
  plan: Plan;
  globals: Record<string, string>;
  numbers: Map<string, string>;
  processEnv: Record<string, string | undefined>;
  root: string;
}

/**
 * Whether a step's `when` lets it run in the plan's environment; undefined when it depends on
 * earlier steps' outputs (the reader decides on the spot). Preflight decides it the same way.
 */
export const decideWhen = decideWhenUpFront;

const describeWhen = (step: PlannedStep, context: StepContext): string => {
  const expression = inline(step.when!.trim());
  const value = decideWhen(context.plan, step, context.processEnv);
  const where = context.plan.environment ? `With environment ${context.plan.environment}` : 'With the default vars';
  const verdict =
    value === undefined
      ? ' It depends on what earlier steps wrote: decide when you get here.'
      : value
        ? ` ${where} it is **true**: run this step.`
        : ` ${where} it is **false**: skip this step.`;
  return `**Only when** ${expression} is true — skip this step when it is false.${verdict}`;
};

const describeVerify = (step: PlannedStep): string[] => {
  const v = step.verify;
  const action = step.uses ? findAction(step.uses) : undefined;
  const expectText = v.expect ? ` and its output must match the regular expression ${inline(v.expect)}` : '';
  const proves = action ? ` It proves: ${action.verifies.replace(/\.?$/, '.')}` : '';
  const limit = v.timeoutMs !== undefined ? ` Each attempt may take up to ${formatDuration(v.timeoutMs)}.` : '';
  if (v.retries === 0) {
    return [`Check — it must exit 0${expectText}.${proves}${limit}`, fence(subshell(v.run))];
  }
  const tries = v.retries + 1;
  const delimiter = heredocDelimiter(v.run);
  const loop = [
    `for attempt in $(seq ${tries}); do`,
    `  if bash -euo pipefail <<'${delimiter}'`,
    v.run.replace(/\n+$/, ''),
    delimiter,
    '  then break; fi',
    `  if [ "$attempt" = ${tries} ]; then echo "the check failed ${tries} times" >&2; false; fi`,
    `  sleep ${seconds(v.intervalMs)}`,
    'done',
  ].join('\n');
  return [
    `Check — repeat up to ${tries} times, every ${formatDuration(v.intervalMs)}, until it exits 0${expectText} (the loop below does the repeating; ` +
      `the check itself is the text between the ${inline(delimiter)} lines).${proves}${limit}`,
    fence(loop),
  ];
};

const describeStep = (step: PlannedStep, context: StepContext): string => {
  const number = context.numbers.get(step.id)!;
  const parts: string[] = [`### ${number}. ${step.name}`];
  const file = relative(context.root, step.file) || basename(step.file);
  const include = step.id.includes('.') ? ` (included as ${inline(step.id.slice(0, step.id.lastIndexOf('.')))})` : '';
  const facts = [`Step ${inline(step.id)}, defined in ${inline(`${file}:${step.line}`)}${include}.`];
  const waits = step.needs.map((id) => (context.numbers.has(id) ? `step ${context.numbers.get(id)} (${inline(id)})` : inline(id)));
  if (waits.length) facts.push(`Comes after ${waits.join(', ')} (done, or skipped by its condition).`);
  if (step.timeoutMs !== undefined)
    facts.push(`Allow up to ${formatDuration(step.timeoutMs)}; if it runs longer, stop it (Ctrl-C) and find out why.`);
  if (step.retries) facts.push(`If it fails, it may be run again (up to ${step.retries} more time${step.retries === 1 ? '' : 's'}).`);
  if (step.continueOnError) facts.push('A failure here does not stop the runbook: note it, and go on with the next step.');
  parts.push(facts.join(' '));
  if (step.confirm) parts.push(`**Confirm before running:** ${step.confirm}`);
  if (step.when !== undefined) parts.push(describeWhen(step, context));
  if (step.uses) {
    const action = findAction(step.uses);
    parts.push(`Built-in action ${inline(step.uses)}${action ? `: ${action.description.replace(/\.?$/, '.')}` : '.'}`);
  }

  const references = outputReferences(step);
  if (step.deferred || references.length) {
    const prefix = step.id.includes('.') ? step.id.slice(0, step.id.lastIndexOf('.') + 1) : '';
    const lines = references.map(
      (r) =>
        `- ${inline(`\${{ steps.${r.step}.outputs.${r.key} }}`)} is the value of ${inline(`${r.key}=`)} that step ${context.numbers.get(prefix + r.step) ?? ''} ` +
        `(${inline(prefix + r.step)}) wrote to ${inline('$RUNBOOK_OUTPUT')}; print it with ${inline(`sed -n 's/^${r.key}=//p' "$RUNBOOK_OUTPUT" | tail -n 1`)}`,
    );
    parts.push(
      ['This step uses what earlier steps wrote. Before you paste the blocks below, replace each of these with its value:', ...lines].join(
        '\n',
      ),
    );
  }

  const own = Object.entries(step.env).filter(([key, value]) => context.globals[key] !== value);
  if (own.length) parts.push("This step's own environment (paste it first):", fence(own.map(([k, v]) => exportLine(k, v)).join('\n')));

  if (step.manual !== undefined) {
    parts.push(
      '**Do this by hand:**',
      step.manual
        .trim()
        .split('\n')
        .map((line) => `> ${line}`.trimEnd())
        .join('\n'),
    );
  }
  if (step.run !== undefined) parts.push('Run:', fence(subshell(step.run)));
  parts.push(...describeVerify(step));
  return parts.join('\n\n');
};

const rcloneRemotes = (plan: Plan): string[] =>
  [
    ...new Set(
      Object.values(plan.vars).flatMap((value) => (typeof value === 'string' ? [/^([A-Za-z0-9_-]+):(?!\/\/)/.exec(value)?.[1]] : [])),
    ),
  ].filter((remote): remote is string => remote !== undefined && !/^\d+$/.test(remote));

/**
 * The commands that take a bare Debian server to the first `runbook exec` of a recovery that can
 * start from the bucket alone: a recovery whose vars name the bucket (`backup_remote`) and the runbook
 * repository backup-config bundles (`runbook_repository`, checked out into `runbook_dir`). The tool
 * comes first, as the single executable backup-config stores beside the bundles, so that everything
 * after it - which backup is the newest trusted one above all - is the tool's one definition.
 */
const bootstrap = (plan: Plan, exec: string): string[] => {
  const remote = plan.vars.backup_remote;
  const repository = plan.vars.runbook_repository;
  const dir = plan.vars.runbook_dir ?? '/opt/runbook';
  const executable = plan.vars.runbook_executable ?? '/usr/local/bin/runbook';
  if (plan.kind !== 'recovery' || typeof remote !== 'string' || typeof repository !== 'string') return [];
  if (typeof dir !== 'string' || typeof executable !== 'string') return [];
  const name = /^([A-Za-z0-9_]+):/.exec(remote)?.[1] ?? 'backup';
  const variable = `RCLONE_CONFIG_${name.toUpperCase()}`;
  const packages = [
    ...new Set([
      ...[...plan.requires, 'rclone', 'git', 'age', 'jq', 'ssh-keygen'].map((command) => debianPackageOf(command) ?? command),
      'ca-certificates',
    ]),
  ].sort();
  const publicKey = typeof plan.vars.backup_public_key === 'string' ? plan.vars.backup_public_key.trim() : '';
  const keyLines = publicKey.split('\n').map((line) => line.trim());
  const variables = [
    `backup_remote=${shellQuote(remote)} runbook_repository=${shellQuote(repository)} runbook_dir=${shellQuote(dir)} runbook_executable=${shellQuote(executable)}`,
    ...(publicKey
      ? [
          "# The backups' public key (backup_public_key of the environment): only what its private key signed is used.",
          'keys=$(mktemp) signers=$(mktemp)',
          ...keyLines.map((line) => `echo ${shellQuote(line)} >> "$keys"`),
          ...keyLines.map((line) => `echo ${shellQuote(`runbook-backup namespaces="runbook-backup" ${line}`)} >> "$signers"`),
        ]
      : []),
  ];
  const fetchTool = [
    'downloaded=$(mktemp -d)',
    'rclone copy "$backup_remote/runbook" "$downloaded"',
    ...(publicKey
      ? [
          '(cd "$downloaded" && ssh-keygen -Y verify -f "$signers" -I runbook-backup -n runbook-backup -s runbook-linux-x64.sha256.sig < runbook-linux-x64.sha256 && sha256sum --check --strict runbook-linux-x64.sha256) && install -D -m 755 "$downloaded/runbook-linux-x64" "$runbook_executable"',
        ]
      : [
          '(cd "$downloaded" && sha256sum --check --strict runbook-linux-x64.sha256) && install -D -m 755 "$downloaded/runbook-linux-x64" "$runbook_executable"',
        ]),
  ];
  const trust = publicKey ? '--signers "$keys"' : '--allow-unsigned';
  const fetchRepository = [
    '# The newest trusted complete backup of the repositories (the same rules as every restore), its manifest as checked.',
    'bundles=$(mktemp -d)',
    `id=$("$runbook_executable" backups "$backup_remote/git/config" --pick latest ${trust} --manifest-to "$bundles/manifest.json")`,
    'rclone copy "$backup_remote/git/config/$id" "$bundles" --exclude manifest.json --exclude manifest.json.sig',
    '# Every file exactly as the backup recorded it, before anything is used.',
    '(cd "$bundles" && jq -r \'.files[] | "\\(.sha256)  \\(.name)"\' manifest.json | sha256sum -c --quiet)',
    'git clone --quiet "$bundles/bundles/$runbook_repository.git.bundle" "$runbook_dir"',
    'echo "$runbook_dir is at $(git -C "$runbook_dir" rev-parse HEAD), from backup $id"',
    'rm -rf "$bundles" "$downloaded"',
  ];
  return [
    '## Before anything: from a bare server to the first command',
    [
      `Keep these off the server (a password manager, a safe): the bucket's endpoint and keys (the rclone remote ${inline(name)}), ` +
        `and every secret of the list below - the age private key that decrypts the stack's secret files among them. Nothing else is needed: ` +
        `the tool, the configuration, the runbooks and the secrets come from the bucket.`,
      `1. Install the packages (Debian 12; no Node.js - the tool is a single executable):`,
    ].join('\n\n'),
    fence(`apt-get update && apt-get install -y ${packages.join(' ')}`, 'sh'),
    `2. Point rclone at the bucket (your provider's values; the secret key without echoing it):`,
    fence(
      [
        `export ${variable}_TYPE=s3 ${variable}_PROVIDER=Other ${variable}_ENDPOINT=https://s3.example.com ${variable}_ACCESS_KEY_ID=...`,
        `read -rs ${variable}_SECRET_ACCESS_KEY; export ${variable}_SECRET_ACCESS_KEY`,
      ].join('\n'),
      'sh',
    ),
    `3. The values these commands use${publicKey ? ", and the backups' public key" : ''}:`,
    fence(variables.join('\n')),
    `4. Two commands bring the tool: the executable backup-config stored in the bucket with its checksum${publicKey ? ' and their signature' : ''}, then ${publicKey ? 'the signature and ' : ''}the checksum checked before it is installed:`,
    fence(fetchTool.join('\n')),
    `5. The runbook repository from its bundle, the backup chosen by the tool:`,
    fence(fetchRepository.join('\n')),
    `6. Export the other secrets of "What to have at hand" (${plan.secrets.map(inline).join(', ')}) the same way, then start: ${inline(`cd ${dir} && ${exec}`)} - or follow this document by hand from here.`,
  ];
};

const renderOne = (plan: Plan, processEnv: Record<string, string | undefined>): string => {
  const root = dirname(plan.file);
  const numbers = new Map<string, string>();
  plan.steps.forEach((step, index) => numbers.set(step.id, String(index + 1)));
  plan.cleanup.forEach((step, index) => numbers.set(step.id, `C${index + 1}`));
  const globals = collectGlobals(plan);
  const context: StepContext = { plan, globals, numbers, processEnv, root };
  const title =
    plan.kind === 'recovery' ? 'Recovery' : plan.kind === 'backup' ? 'Backup' : plan.kind === 'restore-test' ? 'Restore test' : 'Runbook';
  const exec = `runbook exec ${shellQuote(plan.file)}${plan.environment ? ` --env ${shellQuote(plan.environment)}` : ''}`;

  const summary = [
    `- **What it does:** ${plan.description?.trim().replace(/\s*\n\s*/g, ' ') ?? plan.name}`,
    plan.rto ? `- **Recovery time objective (RTO):** ${plan.rto}` : undefined,
    plan.rpo ? `- **Recovery point objective (RPO):** ${plan.rpo}` : undefined,
    `- **Environment:** ${plan.environment ? `${plan.environment} (${inline(relative(root, join(root, 'environments', `${plan.environment}.yaml`)))} beside the runbook)` : "none (the runbook's default vars)"}`,
    `- **Steps:** ${plan.steps.length}${plan.cleanup.length ? `, then ${plan.cleanup.length} cleanup step${plan.cleanup.length === 1 ? '' : 's'}` : ''}`,
  ].filter(Boolean);

  const overview = plan.steps.map(
    (step, index) =>
      `${index + 1}. ${step.name} — ${inline(step.id)}${step.when !== undefined ? ' (conditional)' : ''}${step.confirm ? ' (asks first)' : ''}`,
  );

  // A command a step installs (`provides`: Docker on a bare server) is that step's to bring.
  const provided = findProviders(plan, new Set(plan.steps.map((step) => step.id)));
  const upFront = plan.requires.filter((command) => !provided.has(command));
  const remotes = plan.requires.includes('rclone') ? rcloneRemotes(plan) : [];
  const athand = [
    `- **Commands** on the PATH: ${upFront.map(inline).join(', ')} (the block after the variables checks them)` +
      (provided.size
        ? `; ${[...provided].map(([command, step]) => `${inline(command)} is installed by step ${numbers.get(step.id)}`).join(', ')}.`
        : '.'),
    plan.secrets.length
      ? `- **Secrets** (from the password manager; they are never written in this document): ${plan.secrets.map(inline).join(', ')}. ` +
        `Set each one in the shell before pasting the variables block, without echoing it: ${inline('read -rs NAME; export NAME')} for one line, ` +
        `${inline('export NAME="$(cat FILE)"')} for a multi-line value such as a key file.`
      : undefined,
    remotes.length
      ? `- **rclone remote${remotes.length > 1 ? 's' : ''}** ${remotes.map(inline).join(', ')}: configured with ${inline('rclone config')} or ${inline('RCLONE_CONFIG_<REMOTE>_*')} variables ` +
        `(e.g. ${inline(`RCLONE_CONFIG_${remotes[0]!.toUpperCase()}_TYPE=s3`)}). rclone 1.60 fails on S3 with ${inline('LoadCustomCABundleError')} while ${inline('AWS_CA_BUNDLE')} is set: ${inline('unset AWS_CA_BUNDLE')} first.`
      : undefined,
    callsRunbook(plan)
      ? `- **This tool**, ${inline('runbook')}, on the PATH (the bootstrap above installs it), or ${inline('export RUNBOOK_BIN=PATH')} naming it: the restore and retention steps ask it which backup is the newest trusted complete one (${inline('runbook backups DEST --pick latest')}), the one definition ${inline('runbook exec')} uses, signatures included.`
      : undefined,
  ].filter(Boolean);

  const variables = [
    ...(plan.secrets.length ? ['# Secrets: set them first (see "What to have at hand"); these lines stop here when one is missing.'] : []),
    ...plan.secrets.map((name) => `export ${name}="\${${name}:?set ${name} first (see What to have at hand)}"`),
    `# Vars of ${plan.name}${plan.environment ? `, with the values of environment ${plan.environment}` : ''}; the shell of the steps reads them as environment variables.`,
    ...Object.entries(globals).map(([k, v]) => exportLine(k, v)),
    '# Steps write their outputs (KEY=value lines) to this file; later steps and checks read them from it.',
    'export RUNBOOK_OUTPUT="$(mktemp)"',
  ].join('\n');

  const definitions = definitionsBlock(plan);
  const checked = [...upFront.map(shellQuote), ...(callsRunbook(plan) ? ['"${RUNBOOK_BIN:-runbook}"'] : [])];
  const commands = `for command in ${checked.join(' ')}; do\n  command -v "$command" > /dev/null || { echo "missing command: $command" >&2; false; }\ndone`;

  const sections = [
    `# ${title}: ${plan.name}`,
    summary.join('\n'),
    `With the tool this is one command, ${inline(exec)}. This document is for when the tool is not at hand: every block below is exactly the shell that command runs, in the same order.`,
    ...bootstrap(plan, exec),
    '## How to follow this document',
    [
      `Open a new shell for this (${inline('bash')}) and make it strict: ${inline('set -euo pipefail')}. Then paste the ${inline('bash')} blocks below in order, one at a time, into that shell.`,
      'A step is done only when its check passed. A failing command ends that shell — that is on purpose, nothing must run after a failure: read the error, fix the cause, open a new strict shell, paste the variables block again and carry on from the step that failed.',
      'Steps marked **Only when** are skipped when their condition is false; steps marked **Confirm before running** change things that cannot be undone: stop and make sure first.',
      `Each step's block runs in a subshell ${inline('( … )')}, as the tool runs each step in a bash of its own: its temporary files are removed when the block ends.`,
    ].join('\n\n'),
    '## What to have at hand',
    athand.join('\n'),
    '## Variables',
    `${inline('$RUNBOOK_OUTPUT')} is where steps write what later steps need (${inline('KEY=value')} lines), as ${inline('runbook exec')} does for them.`,
    fence(variables),
    'Check that every command is installed:',
    fence(commands),
    ...(definitions
      ? [
          '## Definitions',
          `The built-in actions' steps call shell functions (${inline('rb_*')}). Paste this block once, after the variables: it only defines the functions (each step below calls them), and runs nothing.`,
          fence(definitions),
        ]
      : []),
    '## Steps',
    overview.join('\n'),
    ...plan.steps.map((step) => describeStep(step, context)),
    '## Cleanup',
    plan.cleanup.length
      ? 'Always run these at the end, also after a failure:'
      : `Nothing of the runbook is left to undo. Temporary folders of steps that failed stay in ${inline('${TMPDIR:-/tmp}')} (${inline('runbook-*')}): remove them once you no longer need them.`,
    ...plan.cleanup.map((step) => describeStep(step, context)),
    'Remove the outputs file, then leave the strict shell with `exit`:',
    fence('rm -f "$RUNBOOK_OUTPUT"'),
  ];
  return sections.join('\n\n');
};

/**
 * Renders the Markdown document for `files` (one section per runbook). Deterministic: the same
 * runbooks, environment and env values give the same bytes.
 */
export const renderDocs = (files: readonly string[], options: DocsOptions = {}): string => {
  const processEnv = options.processEnv ?? process.env;
  const secretValues: string[] = [];
  const bodies = files.map((file) => {
    const env = chooseEnvironment(file, options.env);
    const { secrets } = resolvePlan(file, { env, vars: options.vars, processEnv });
    for (const name of secrets) if (processEnv[name]) secretValues.push(processEnv[name]!);
    const withoutSecrets = { ...processEnv, ...Object.fromEntries(secrets.map((name) => [name, marker(name)])) };
    return renderOne(resolvePlan(file, { env, vars: options.vars, processEnv: withoutSecrets }), withoutSecrets);
  });
  const header = `<!-- generated by runbook docs from ${files.join(', ')} — do not edit; run: ${docsCommandLine(files, options)} -->`;
  const text = [header, ...bodies].join('\n\n').replace(markerPattern, (_m, name: string) => `\${${name}}`);
  // Belt and braces: a secret value that reached the text some other way is masked all the same.
  return createMasker(secretValues)(text) + '\n';
};

/** The outcome of `docs --check`. */
export interface DocsComparison {
  equal: boolean;
  /** A short unified-style diff of the first differing lines ('' when equal). */
  diff: string;
}

/** Where two line lists agree again after `start`: the nearest pair of offsets from which `run` lines match. */
const findResync = (a: readonly string[], b: readonly string[], start: number, run = 3, reach = 400): [number, number] => {
  const agree = (i: number, j: number) => {
    for (let k = 0; k < run; k++) {
      if (i + k >= a.length && j + k >= b.length) return true;
      if (a[i + k] !== b[j + k]) return false;
    }
    return true;
  };
  for (let distance = 1; distance <= reach; distance++) {
    for (let i = 0; i <= distance; i++) {
      const j = distance - i;
      if (start + i <= a.length && start + j <= b.length && agree(start + i, start + j)) return [start + i, start + j];
    }
  }
  return [a.length, b.length];
};

/** Compares the committed document with a fresh rendering; shows the first place they differ. */
export const compareDocs = (
  current: string | undefined,
  generated: string,
  name = 'RECOVERY.md',
  context = 3,
  limit = 12,
): DocsComparison => {
  if (current === generated) return { equal: true, diff: '' };
  const a = current === undefined ? [] : current.split('\n');
  const b = generated.split('\n');
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  const [endA, endB] = findResync(a, b, start);
  const from = Math.max(0, start - context);
  const removed = a.slice(start, endA);
  const added = b.slice(start, endB);
  const after = a.slice(endA, endA + context);
  const lines = [
    `--- ${current === undefined ? `${name} (missing)` : name}`,
    `+++ ${name} (generated)`,
    `@@ -${from + 1},${start - from + removed.length + after.length} +${from + 1},${start - from + added.length + after.length} @@`,
    ...a.slice(from, start).map((line) => ` ${line}`),
    ...removed.slice(0, limit).map((line) => `-${line}`),
    ...(removed.length > limit ? [`-… ${removed.length - limit} more lines`] : []),
    ...added.slice(0, limit).map((line) => `+${line}`),
    ...(added.length > limit ? [`+… ${added.length - limit} more lines`] : []),
    ...after.map((line) => ` ${line}`),
  ];
  return { equal: false, diff: lines.join('\n') };
};
