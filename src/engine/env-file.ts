// `--env-file F`: KEY=value lines (secrets and settings) added to the environment of a run.
import { readFileSync } from 'node:fs';
import { usageError } from '../errors.js';

/**
 * Parses dotenv-style text: `KEY=value`, `export KEY=value`, `#` comments, single-quoted values
 * taken literally, double-quoted values with `\n`, `\"` and `\\` escapes (how multi-line secrets
 * such as PEM keys are written on one line).
 */
export const parseEnvFile = (text: string, file = 'env file'): Record<string, string> => {
  const values: Record<string, string> = {};
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const match = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (!match) throw usageError(`${file}:${index + 1}:1: expected KEY=value`);
    const [, key, rest] = match as unknown as [string, string, string];
    if (rest.startsWith('"') && rest.endsWith('"') && rest.length >= 2) {
      values[key] = rest.slice(1, -1).replace(/\\(n|"|\\)/g, (_m, c: string) => (c === 'n' ? '\n' : c));
    } else if (rest.startsWith("'") && rest.endsWith("'") && rest.length >= 2) {
      values[key] = rest.slice(1, -1);
    } else {
      values[key] = rest;
    }
  });
  return values;
};

export const readEnvFile = (file: string): Record<string, string> => {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw usageError(`cannot read --env-file ${file}`);
  }
  return parseEnvFile(text, file);
};
