// Step outputs: `key=value` lines a step writes to the file named by $RUNBOOK_OUTPUT.
import { existsSync, readFileSync } from 'node:fs';

const keyPattern = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/** Parses an outputs file; lines that are not `key=value` are ignored, later keys win. */
export const readOutputs = (path: string): Record<string, string> => {
  if (!existsSync(path)) return {};
  const outputs: Record<string, string> = {};
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const at = line.indexOf('=');
    if (at <= 0) continue;
    const key = line.slice(0, at).trim();
    if (keyPattern.test(key)) outputs[key] = line.slice(at + 1).replace(/\r$/, '');
  }
  return outputs;
};
