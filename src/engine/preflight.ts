// Everything knowable before the first step runs is checked here, so a run never stops halfway
// for a reason it could have named up front.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { simpleGit } from 'simple-git';
import { ExitCode, ExitError } from '../errors.js';
import { isInside, linksFollowed } from '../runbook/inside-repository.js';
import { minSecretLength } from './mask.js';
import { describeMissingCommands, missingCommands } from './missing-commands.js';
import type { Plan, PlannedStep } from './plan-types.js';
import { findProviders, needBeforeProvider } from './provided-commands.js';
import { selectSteps } from './scheduler.js';

/** The declared secrets' values; refuses missing ones and ones too short to mask safely. */
export const collectSecrets = (plan: Plan, env: Record<string, string | undefined>): Record<string, string> => {
  const missing = plan.secrets.filter((name) => !env[name]);
  if (missing.length > 0)
    throw new ExitError(ExitCode.usage, `secret(s) not set in the environment: ${missing.join(', ')} (set them, or pass --env-file)`);
  const short = plan.secrets.filter((name) => env[name]!.length < minSecretLength);
  if (short.length > 0) {
    throw new ExitError(
      ExitCode.usage,
      `secret(s) shorter than ${minSecretLength} characters cannot be masked safely: ${short.join(', ')}`,
    );
  }
  return Object.fromEntries(plan.secrets.map((name) => [name, env[name]!]));
};

/**
 * Secrets whose value is also a word of the runbook itself (its name, a step id or name, an output
 * name): the journal keeps ids and names as they are, so such a value is no secret there. Named,
 * never shown.
 */
export const secretsInRunbookText = (plan: Plan, secrets: Record<string, string>): string[] => {
  let text: string;
  try {
    text = readFileSync(plan.file, 'utf8');
  } catch {
    text = '';
  }
  const names = [plan.name, ...[...plan.steps, ...plan.cleanup].flatMap((step) => [step.id, step.name])].join('\n');
  return Object.entries(secrets)
    .filter(([, value]) => text.includes(value) || names.includes(value))
    .map(
      ([name]) =>
        `secret ${name}'s value also appears in the runbook's own text (${plan.file}: a name, an id or an output name): ids and names are recorded as they are in the journal, so there it is not masked; other text is`,
    );
};

/** Checks `--from`/`--only` name existing steps. */
export const checkSelection = (plan: Plan, from?: string, only?: string[]): void => {
  const ids = plan.steps.map((step) => step.id);
  const exists = (wanted: string) => ids.some((id) => id === wanted || id.startsWith(`${wanted}.`));
  for (const wanted of [...(from === undefined ? [] : [from]), ...(only ?? [])]) {
    if (!exists(wanted)) throw new ExitError(ExitCode.usage, `no step '${wanted}' in ${plan.file} (steps: ${ids.join(', ')})`);
  }
};

/** Exit 3 before anything runs when a selected step needs a confirmation nobody can give. */
export const checkConfirmations = (
  plan: Plan,
  options: { yes?: boolean; interactive: boolean; from?: string; only?: string[]; skip?: ReadonlySet<string> },
): void => {
  if (options.yes || options.interactive) return;
  const selected = selectSteps(plan, options.from, options.only);
  const asking = [...plan.steps.filter((s) => selected.has(s.id) && !options.skip?.has(s.id)), ...plan.cleanup].filter(
    (s) => s.confirm !== undefined,
  );
  if (asking.length > 0) {
    throw new ExitError(
      ExitCode.aborted,
      `step(s) ${asking.map((s) => `'${s.id}'`).join(', ')} need a confirmation, and there is no terminal to ask: pass --yes to confirm them; nothing was run`,
    );
  }
};

/** Files the plan comes from: the runbook, every file it includes and the environment file. */
export const planFiles = (plan: Plan): string[] => [
  ...new Set((plan.sources ?? [plan.file, ...plan.steps.map((s) => s.file), ...plan.cleanup.map((s) => s.file)]).map((f) => resolve(f))),
];

/** What git's short status says of a path, in words. */
const describeStatus = (code: string): string =>
  code === '??' ? 'untracked' : code === '!!' ? 'ignored by git' : code[1] === ' ' ? 'staged, not committed' : 'modified';

/**
 * The repository paths git must vouch for so that the commit describes `files`: where each really
 * is, and every symbolic link followed on the way (the commit must also say where they lead).
 */
const pathsInRepository = (root: string, files: readonly string[]): string[] => {
  const paths = files.flatMap((file) => {
    let real: string;
    try {
      real = realpathSync(file);
    } catch {
      real = file;
    }
    return [...linksFollowed(file), real];
  });
  return [...new Set(paths.filter((path) => isInside(root, path)).map((path) => relative(root, path)))];
};

/** What a run records about where its runbook files come from. */
export interface GitOrigin {
  /** HEAD of the repository; undefined outside git or before the first commit. */
  commit?: string;
  /** Files read that the commit does not hold as they are (only with allowDirty), as repository paths. */
  dirty: string[];
}

/**
 * The commit the runbook comes from. Refuses (exit 2) a file the run reads (the runbook, an include,
 * the environment file, a link on the way to one) that is modified, staged but not committed,
 * untracked or ignored, and a runbook outside git, unless `allowDirty` (then the commit is recorded
 * as far as known, with the files that differ from it).
 */
export const checkGit = async (plan: Plan, allowDirty: boolean): Promise<GitOrigin> => {
  const files = planFiles(plan);
  const git = simpleGit({ baseDir: dirname(files[0]!) });
  let root: string;
  try {
    root = (await git.revparse(['--show-toplevel'])).trim();
  } catch {
    if (allowDirty) return { dirty: files.map((f) => relative(process.cwd(), f) || f) };
    throw new ExitError(
      ExitCode.usage,
      `${plan.file} is not in a git repository: runbooks come from git (pass --allow-dirty to run it anyway)`,
    );
  }
  const repo = simpleGit({ baseDir: root });
  let commit: string | undefined;
  try {
    commit = (await repo.revparse(['HEAD'])).trim();
  } catch {
    commit = undefined;
  }
  const paths = pathsInRepository(root, files);
  // -z: paths as they are (no quoting); --ignored: a file .gitignore keeps out of every commit is
  // not described by one either.
  const status = await repo.raw(['status', '--porcelain', '-z', '--untracked-files=all', '--ignored=matching', '--', ...paths]);
  const entries = status
    .split('\0')
    .filter(Boolean)
    .map((entry) => ({ path: entry.slice(3), state: describeStatus(entry.slice(0, 2)) }));
  const dirty = entries.map((entry) => entry.path);
  if ((dirty.length > 0 || !commit) && !allowDirty) {
    const what = commit ? `uncommitted changes in ${entries.map((e) => `${e.path} (${e.state})`).join(', ')}` : 'no commit yet';
    throw new ExitError(ExitCode.usage, `${plan.file}: ${what}; runbooks run from git (commit them, or pass --allow-dirty)`);
  }
  return { commit, dirty };
};

/** Refuses a protected environment where the caller forbids it (drill against production). */
export const checkEnvironment = (plan: Plan, refuseProtected: boolean): void => {
  if (refuseProtected && plan.protectedEnvironment) {
    throw new ExitError(ExitCode.usage, `environment '${plan.environment}' is protected: refusing to run against it here`);
  }
};

/**
 * Refuses (exit 2) commands of `plan.requires` missing on `path`, except those a step of `runs`
 * provides before any `uses` step that calls them: that step installs them (provided-commands.ts).
 */
export const checkRequires = (plan: Plan, path: string, runs: ReadonlySet<string>): void => {
  const providers = findProviders(plan, runs);
  const notes: string[] = [];
  const refused = missingCommands(plan.requires, path).filter((command) => {
    const provider = providers.get(command);
    if (!provider) return true;
    const early = needBeforeProvider(plan, runs, command, provider);
    if (early) notes.push(`note that step '${early.id}' needs ${command} before step '${provider.id}' provides it`);
    return early !== undefined;
  });
  if (refused.length > 0) throw new ExitError(ExitCode.usage, [describeMissingCommands(refused), ...notes].join('\n'));
};

/**
 * Refuses (exit 2) a step whose `run` or `verify` text bash cannot parse (`bash -n`): an unclosed
 * quote would otherwise surface only after the steps before it ran. Deferred steps (text that
 * depends on earlier outputs) are checked when they run.
 */
export const checkShellSyntax = (plan: Plan): void => {
  // Identical texts are parsed once, and one bash forks the `bash -n` checks: a spawn from Node
  // per text cost more than the steps themselves in a runbook of many small steps.
  const texts = new Map<string, { step: PlannedStep; field: 'run' | 'verify' }[]>();
  for (const step of [...plan.steps, ...plan.cleanup]) {
    if (step.deferred) continue;
    for (const [field, text] of [
      ['run', step.run],
      ['verify', step.verify.run],
    ] as const) {
      if (text !== undefined) texts.set(text, [...(texts.get(text) ?? []), { step, field }]);
    }
  }
  if (texts.size === 0) return;
  const dir = mkdtempSync(join(tmpdir(), 'runbook-syntax-'));
  try {
    const files = [...texts.keys()].map((text, index) => {
      const file = join(dir, String(index));
      writeFileSync(file, text, { mode: 0o600 });
      return file;
    });
    // The checks run side by side: each is a fork and exec of bash, most of it waiting.
    spawnSync('bash', ['-c', 'for f; do { bash -n "$f" 2> "$f.err" || : > "$f.bad"; } & done; wait', 'bash', ...files], {
      stdio: 'ignore',
    });
    const problems: string[] = [];
    [...texts.values()].forEach((uses, index) => {
      const file = files[index]!;
      if (!existsSync(`${file}.bad`)) return;
      const reason = readFileSync(`${file}.err`, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((line) => line.replace(/^[^:]+: /, ''))
        .join('; ');
      for (const { step, field } of uses)
        problems.push(`${step.file}:${step.line}:${step.col}: step '${step.id}': ${field} is not valid bash: ${reason} [shell-syntax]`);
    });
    if (problems.length > 0) throw new ExitError(ExitCode.usage, `${problems.join('\n')}\nnothing was run`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
};
