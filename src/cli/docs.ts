// `runbook docs FILE…`: RECOVERY.md from the runbooks, written, printed, or checked for drift.
import { readFileSync, writeFileSync } from 'node:fs';
import { readEnvFile } from '../engine/env-file.js';
import { parseVarArguments } from '../engine/vars.js';
import { ExitCode, ExitError, usageError } from '../errors.js';
import { compareDocs, docsCommandLine, renderDocs } from '../report/docs.js';

export interface DocsCommandOptions {
  env?: string;
  /** `--var K=V`, repeatable: parsed and typed as exec does. */
  var?: string[];
  envFile?: string;
  /** Write the document here instead of printing it. */
  output?: string;
  /** Compare this file with what would be generated; exit 1 when they differ. */
  check?: string;
}

const readIfPresent = (file: string): string | undefined => {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw usageError(`cannot read ${file}: ${(error as Error).message}`);
  }
};

export const docsCommand = (files: string[], options: DocsCommandOptions) => {
  if (options.check && options.output) throw usageError('--check and -o exclude each other: --check compares, -o writes');
  const processEnv = { ...process.env, ...(options.envFile ? readEnvFile(options.envFile) : {}) };
  const target = options.check ?? options.output;
  const common = { env: options.env, envFile: options.envFile, output: target, vars: parseVarArguments(options.var ?? []) };
  const text = renderDocs(files, { ...common, processEnv });
  if (options.check) {
    const { equal, diff } = compareDocs(readIfPresent(options.check), text, options.check);
    if (equal) {
      process.stdout.write(`${options.check} is up to date\n`);
      return;
    }
    process.stdout.write(`${diff}\n`);
    throw new ExitError(
      ExitCode.failed,
      `${options.check} is out of date with the runbooks; regenerate it: ${docsCommandLine(files, common)}`,
    );
  }
  if (options.output) {
    writeFileSync(options.output, text);
    process.stdout.write(`wrote ${options.output}\n`);
    return;
  }
  process.stdout.write(text);
};
