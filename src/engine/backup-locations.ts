// Principle 10 for the backup store: a restore whose backup location holds nothing, and a backup or
// restore whose rclone remote is not configured or cannot be reached, are named before the first
// step runs — not an hour into a recovery, after the host was prepared.
import { execFile } from 'node:child_process';
import { ExitCode, ExitError } from '../errors.js';
import { interpolate } from '../runbook/expression.js';
import { createMasker } from './mask.js';
import { missingCommands } from './missing-commands.js';
import type { Plan, PlannedStep } from './plan-types.js';
import { stepPath } from './step-env.js';
import { decideWhenUpFront, refersToOutputs, stepEnvironment } from './step-shell.js';

type ProcessEnv = Record<string, string | undefined>;

/** One listing preflight makes: a `from` location that must hold something, or the bucket of a `to`. */
interface LocationCheck {
  input: 'from' | 'to';
  /** The rclone remote's name (before the colon). */
  remote: string;
  /** What is listed: the `from` location itself, or the first path segment of a `to`. */
  target: string;
  /** Full ids of the steps that read or write there. */
  steps: string[];
  env: Record<string, string>;
}

/** What came of one listing; `problem` undefined when it passed. */
interface CheckOutcome {
  check: LocationCheck;
  problem?: 'not-configured' | 'empty' | 'absent' | 'unreachable';
  detail?: string;
}

/** `remote:path`, not a local path: rclone reads it through a configured remote. */
const isRcloneLocation = (value: string): boolean => /^[A-Za-z0-9_]+:/.test(value);

/** `backup:backups/postgres/x` → `backup:backups`; `local:/srv/x` → `local:/srv`. */
const firstSegment = (location: string): string => {
  const colon = location.indexOf(':');
  const path = location.slice(colon + 1);
  return location.slice(0, colon + 1) + /^\/?[^/]*/.exec(path)![0];
};

/** The step's `from`/`to` input as resolved before the run; undefined while it waits for step outputs. */
const inputOf = (step: PlannedStep, input: 'from' | 'to', processEnv: ProcessEnv): string | undefined => {
  const raw = (step.definition?.step.with as Record<string, unknown> | undefined)?.[input];
  if (typeof raw !== 'string' || refersToOutputs(raw)) return undefined;
  try {
    const value = interpolate(raw, { vars: step.definition!.vars, secrets: {}, steps: {}, env: processEnv });
    return typeof value === 'string' ? value : undefined;
  } catch {
    return undefined; // resolving the plan reported it already
  }
};

/** The listings for the `uses` steps of `runs` and the cleanup steps whose `when` is not false, each once. */
const collectChecks = (plan: Plan, runs: ReadonlySet<string>, baseEnv: Record<string, string>, processEnv: ProcessEnv) => {
  const checks = new Map<string, LocationCheck>();
  const cleanup = plan.cleanup.filter((step) => decideWhenUpFront(plan, step, processEnv) !== false);
  const steps = [...plan.steps.filter((step) => runs.has(step.id)), ...cleanup];
  for (const step of steps.filter((s) => s.kind === 'uses')) {
    for (const input of ['from', 'to'] as const) {
      const location = inputOf(step, input, processEnv);
      if (location === undefined || !isRcloneLocation(location)) continue;
      const env = { ...baseEnv, ...step.env, PATH: baseEnv.PATH! };
      const target = input === 'from' ? location : firstSegment(location);
      const rcloneEnv = Object.entries(env).filter(([key]) => key.startsWith('RCLONE_'));
      const key = JSON.stringify([input, target, rcloneEnv]);
      const known = checks.get(key);
      if (known) known.steps.includes(step.id) || known.steps.push(step.id);
      else checks.set(key, { input, remote: location.slice(0, location.indexOf(':')), target, steps: [step.id], env });
    }
  }
  return [...checks.values()];
};

/** rclone's last line worth showing, without its timestamp. */
const lastErrorLine = (stderr: string): string =>
  stderr
    .split('\n')
    .map((line) => line.replace(/^\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d (?:[A-Z]+\s*: )?/, '').replace(/^caused by: /, ''))
    .filter((line) => line.trim() !== '')
    .at(-1) ?? 'no error message';

/** Lists the check's target once (asking rclone to retry little: a preflight, not a transfer). */
const runCheck = (check: LocationCheck, timeoutMs: number): Promise<CheckOutcome> =>
  new Promise((resolve) => {
    const args = ['lsf', '--max-depth', '1', '--low-level-retries', '3', check.target];
    execFile(
      'rclone',
      args,
      { env: check.env, timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 64 << 20 },
      (error, stdout, stderr) => {
        if (error?.killed) return resolve({ check, problem: 'unreachable', detail: `no answer within ${timeoutMs / 1000}s` });
        if (/didn't find section in config file/.test(stderr)) return resolve({ check, problem: 'not-configured' });
        const exitCode = error ? error.code : 0;
        // Exit 3: directory not found (an absent bucket, or an absent folder of a local remote).
        if (exitCode === 3) return resolve({ check, problem: check.input === 'from' ? 'empty' : 'absent' });
        if (exitCode !== 0) {
          const hint = /LoadCustomCABundleError/.test(stderr) ? ' (rclone 1.60 fails so while AWS_CA_BUNDLE is set: unset it)' : '';
          return resolve({ check, problem: 'unreachable', detail: lastErrorLine(stderr) + hint });
        }
        resolve(check.input === 'from' && stdout.trim() === '' ? { check, problem: 'empty' } : { check });
      },
    );
  });

const quoteSteps = (ids: readonly string[]) => `${ids.length === 1 ? 'step' : 'steps'} ${ids.map((id) => `'${id}'`).join(', ')}`;

/** One line per problem; an unconfigured remote once, with every step that uses it. */
const describeProblems = (outcomes: readonly CheckOutcome[]): string[] => {
  const unconfigured = new Map<string, string[]>();
  const lines: string[] = [];
  for (const { check, problem, detail } of outcomes) {
    const steps = quoteSteps(check.steps);
    if (problem === 'not-configured') {
      const known = unconfigured.get(check.remote) ?? [];
      unconfigured.set(check.remote, [...known, ...check.steps.filter((id) => !known.includes(id))]);
    } else if (problem === 'empty')
      lines.push(`${steps}: the backup location ${check.target} holds nothing (is the bucket or prefix right?)`);
    else if (problem === 'absent')
      lines.push(`${steps}: ${check.target} does not exist (is the bucket right? the first backup creates only the folders below it)`);
    else if (problem === 'unreachable') lines.push(`${steps}: cannot reach ${check.target}: ${detail}`);
  }
  for (const [remote, steps] of unconfigured) {
    const prefix = `RCLONE_CONFIG_${remote.toUpperCase()}_`;
    lines.unshift(
      `${quoteSteps(steps)}: rclone remote '${remote}' is not configured: set ${prefix}TYPE and its other ${prefix}* variables, or add [${remote}] to rclone.conf (\`rclone config file\` names it)`,
    );
  }
  return lines;
};

/** What {@link checkBackupLocations} needs besides the plan. */
export interface LocationCheckOptions {
  /** The environment of the run (process env plus `--env-file`): rclone gets what the steps get. */
  processEnv: ProcessEnv;
  /** Values of the declared secrets, exported to rclone as to the steps. */
  secrets: Record<string, string>;
  /** Limit for one listing. @default 30000 */
  timeoutMs?: number;
}

/**
 * Refuses (exit 2) the run when, for a `uses` step of `runs` or of cleanup, an rclone `from`
 * location lists nothing, or the remote of a `from` or `to` is not configured or not reachable
 * (a `to` only needs its first path segment, the bucket, to list). Listings run side by side.
 */
export const checkBackupLocations = async (plan: Plan, runs: ReadonlySet<string>, options: LocationCheckOptions): Promise<void> => {
  const { processEnv, secrets } = options;
  const inherited = Object.fromEntries(Object.entries(processEnv).filter((entry): entry is [string, string] => entry[1] !== undefined));
  const baseEnv = { ...inherited, ...stepEnvironment(plan, secrets), PATH: stepPath(processEnv.PATH) };
  const checks = collectChecks(plan, runs, baseEnv, processEnv);
  // Without rclone there is nothing to ask; the commands check names it, or a step installs it first.
  if (checks.length === 0 || missingCommands(['rclone'], baseEnv.PATH).length > 0) return;
  const outcomes = await Promise.all(checks.map((check) => runCheck(check, options.timeoutMs ?? 30_000)));
  const problems = describeProblems(outcomes.filter((outcome) => outcome.problem !== undefined));
  if (problems.length > 0)
    throw new ExitError(ExitCode.usage, createMasker(Object.values(secrets))(`${problems.join('\n')}\nnothing was run`));
};
