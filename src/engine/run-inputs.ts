// What a run's steps read besides their own text: the environment's name, every var (steps see them
// all as environment variables), the `--env-file` values and which declared secrets are set. Each
// step's identity covers them (resolve.ts), so a resume never skips a step whose inputs changed; the
// journal's run start records them as salted digests, so a resume with other inputs is refused
// naming what differs. No secret value enters either, nor a digest of one: a digest of a guessable
// password lets whoever reads the journal test guesses offline, and no key can be kept where the
// journal's readers could not read it too. A secret counts by whether it is set.
import { createHash, randomBytes } from 'node:crypto';

/** A run's inputs, as they enter step identities. */
export interface RunInputs {
  /** `--env NAME`; null without one. */
  environment: string | null;
  vars: Record<string, unknown>;
  /** `--env-file` values by name, but declared secrets' (`secrets` says whether those are set, wherever from). */
  envFile: Record<string, string>;
  /** Declared secrets that are set, sorted. */
  secrets: string[];
}

/** What {@link collectRunInputs} reads. */
export interface RunInputSources {
  environment?: string;
  vars: Record<string, unknown>;
  /** `--env-file` values. @default none */
  envFile?: Record<string, string>;
  /** Names of the declared secrets. */
  secrets: readonly string[];
  processEnv: Record<string, string | undefined>;
}

/** What stands for a secret's value: only whether it is set counts. */
export const secretIsSet = '<secret: set>';

const sortedEntries = <T>(record: Record<string, T>): [string, T][] => Object.entries(record).sort(([a], [b]) => (a < b ? -1 : 1));

/** The values of the declared secrets that are set. */
export const secretValuesOf = (names: readonly string[], processEnv: Record<string, string | undefined>): Record<string, string> =>
  Object.fromEntries(names.filter((name) => processEnv[name]).map((name) => [name, processEnv[name]!]));

export const collectRunInputs = (sources: RunInputSources): RunInputs => {
  const declared = new Set(sources.secrets);
  return {
    environment: sources.environment ?? null,
    vars: Object.fromEntries(sortedEntries(sources.vars)),
    envFile: Object.fromEntries(sortedEntries(sources.envFile ?? {}).filter(([name]) => !declared.has(name))),
    secrets: Object.keys(secretValuesOf(sources.secrets, sources.processEnv)).sort(),
  };
};

/**
 * JSON text with every secret value in it replaced by the secret's name: what identities hash, so
 * that neither a value nor a digest of one reaches the journal (a var or an env file value can hold
 * a secret: `${{ env.DB_PASSWORD }}`).
 */
export const withoutSecretValues = (json: string, secretValues: Record<string, string>): string =>
  Object.entries(secretValues)
    .filter(([, value]) => value !== '')
    .sort(([, a], [, b]) => b.length - a.length)
    .reduce((text, [name, value]) => text.split(JSON.stringify(value).slice(1, -1)).join(`<secret ${name}>`), json);

/** The run's inputs as the journal's run start keeps them. */
export interface RecordedInputs {
  /** Random per run: a digest of a value cannot be looked up in a table made in advance. */
  salt: string;
  environment: string | null;
  /** Digests by var name. */
  vars: Record<string, string>;
  /** Digests by env file name. */
  envFile: Record<string, string>;
  secrets: string[];
}

const digest = (salt: string, value: unknown, secretValues: Record<string, string>): string =>
  createHash('sha256')
    .update(`${salt}\0${withoutSecretValues(JSON.stringify(value ?? null), secretValues)}`)
    .digest('hex');

const digests = (salt: string, values: Record<string, unknown>, secretValues: Record<string, string>) =>
  Object.fromEntries(Object.entries(values).map(([name, value]) => [name, digest(salt, value, secretValues)]));

export const recordInputs = (
  inputs: RunInputs,
  secretValues: Record<string, string>,
  salt: string = randomBytes(16).toString('hex'),
): RecordedInputs => ({
  salt,
  environment: inputs.environment,
  vars: digests(salt, inputs.vars, secretValues),
  envFile: digests(salt, inputs.envFile, secretValues),
  secrets: inputs.secrets,
});

const differingKeys = (what: string, before: Record<string, string>, now: Record<string, string>): string[] =>
  [...new Set([...Object.keys(before), ...Object.keys(now)])].sort().flatMap((name) => {
    if (!(name in now)) return [`${what} '${name}' was set and is not now`];
    if (!(name in before)) return [`${what} '${name}' was not set and is now`];
    return before[name] === now[name] ? [] : [`${what} '${name}' changed`];
  });

const environmentName = (name: string | null) => (name === null ? 'none (no --env)' : `'${name}'`);

/** How `now` differs from the inputs a journal recorded, one phrase per difference; empty when alike. */
export const inputDifferences = (before: RecordedInputs, now: RunInputs, secretValues: Record<string, string>): string[] => {
  const current = recordInputs(now, secretValues, before.salt);
  const secrets = (list: string[], others: string[], state: string) =>
    list.filter((name) => !others.includes(name)).map((name) => `secret '${name}' ${state}`);
  return [
    ...(before.environment === current.environment
      ? []
      : [`the environment was ${environmentName(before.environment)} and is ${environmentName(current.environment)} now`]),
    ...differingKeys('var', before.vars, current.vars),
    ...differingKeys('env file value', before.envFile, current.envFile),
    ...secrets(before.secrets, current.secrets, 'was set and is not now'),
    ...secrets(current.secrets, before.secrets, 'was not set and is now'),
  ];
};
