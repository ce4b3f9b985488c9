// The environment every step starts from: the inherited one with vars and secrets exported, the
// run's own variables, and a PATH whose `runbook` is this package.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { withoutNodeModulesBin } from '../shell/path.js';
import { selfCommand } from '../package/files.js';
import { shellQuote } from '../shell/quote.js';
import type { Plan } from './plan-types.js';
import { stepEnvironment } from './step-shell.js';

/** The PATH steps see (and preflight searches): without npm's `node_modules/.bin` shims. */
export const stepPath = (path: string | undefined): string => withoutNodeModulesBin(path ?? '/usr/local/bin:/usr/bin:/bin');

/** A `runbook` command for steps to call: this package, however it runs (node and its bin, or the executable). */
const writeShim = (runDir: string): string => {
  const dir = join(runDir, 'bin');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeFileSync(join(dir, 'runbook'), `#!/bin/sh\nexec ${selfCommand().map(shellQuote).join(' ')} "$@"\n`, { mode: 0o700 });
  return dir;
};

/** What {@link createBaseEnvironment} builds from. */
export interface BaseEnvironmentSource {
  plan: Plan;
  runId: string;
  runDir: string;
  stateDir: string;
  processEnv: Record<string, string | undefined>;
  secrets: Record<string, string>;
  /** The runbook's commit (exec's git check); undefined outside git. */
  commit?: string;
  /** Files read that differ from `commit` (--allow-dirty). */
  dirty?: readonly string[];
}

/**
 * `RUNBOOK_COMMIT` as steps see it (backup manifests record it): the commit, with `-dirty` appended
 * (as `git describe --dirty` does) when a file the run read differs from it; empty outside git.
 */
export const describeCommit = (commit: string | undefined, dirty: readonly string[] = []): string =>
  commit ? `${commit}${dirty.length > 0 ? '-dirty' : ''}` : '';

/** The environment shared by every step of a run (writes the `runbook` shim into the run folder). */
export const createBaseEnvironment = (source: BaseEnvironmentSource): Record<string, string> => {
  const inherited = Object.fromEntries(
    Object.entries(source.processEnv).filter((entry): entry is [string, string] => entry[1] !== undefined),
  );
  const shim = writeShim(source.runDir);
  return {
    ...inherited,
    ...stepEnvironment(source.plan, source.secrets),
    RUNBOOK_RUN_ID: source.runId,
    RUNBOOK_NAME: source.plan.name,
    RUNBOOK_STATE_DIR: source.stateDir,
    RUNBOOK_COMMIT: describeCommit(source.commit, source.dirty),
    // The actions' shell calls this package (`runbook backups --pick`) through it, whatever PATH a
    // step's own `env` sets; by hand it is unset and `runbook` on PATH is used.
    RUNBOOK_BIN: join(shim, 'runbook'),
    PATH: `${shim}:${stepPath(inherited.PATH)}`,
  };
};
