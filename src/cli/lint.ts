// `runbook lint`: calls the lint core, prints its findings in the chosen format, and turns the
// outcome into the exit code (2 invalid runbook, 1 lint errors, 0 clean).
import { readFileSync } from 'node:fs';
import type { Diagnostic } from '../runbook/diagnostic.js';
import { lintPaths, type LintResult } from '../lint/lint.js';
import { ExitCode, ExitError, usageError } from '../errors.js';

export interface LintCommandOptions {
  /** @default 'pretty' */
  format?: 'pretty' | 'json' | 'github';
  /** Warnings fail the exit code too. @default false */
  strict?: boolean;
  /** `--no-shellcheck` sets this to false. @default true */
  shellcheck?: boolean;
}

type Paint = { red: (s: string) => string; yellow: (s: string) => string; dim: (s: string) => string; bold: (s: string) => string };
const plain: Paint = { red: (s) => s, yellow: (s) => s, dim: (s) => s, bold: (s) => s };

/** chalk only when a person looks at the output; loaded lazily to keep cold start small. */
const loadPaint = async (): Promise<Paint> => {
  if (!process.stdout.isTTY || process.env.NO_COLOR !== undefined) return plain;
  const { default: chalk } = await import('chalk');
  return chalk;
};

const sourceLines = new Map<string, string[]>();
const lineOf = (file: string, line: number): string | undefined => {
  if (!sourceLines.has(file)) {
    try {
      sourceLines.set(file, readFileSync(file, 'utf8').split('\n'));
    } catch {
      sourceLines.set(file, []);
    }
  }
  return sourceLines.get(file)![line - 1];
};

/** actionlint's layout: the finding, the source line, a caret under the column. */
export const formatPretty = (diagnostics: readonly Diagnostic[], paint: Paint = plain): string =>
  diagnostics
    .map((d) => {
      const head = `${paint.bold(`${d.file}:${d.line}:${d.col}:`)} ${d.severity === 'warning' ? paint.yellow('warning: ') : ''}${d.message} ${paint.dim(`[${d.rule}]`)}`;
      // A file refused for leading outside the repository is not read, not even to show a line.
      const text = d.rule === 'outside-repository' ? undefined : lineOf(d.file, d.line);
      // Long or binary-looking lines say nothing useful under a caret.
      if (text === undefined || text.length > 400) return head;
      const gutter = String(d.line);
      const pad = ' '.repeat(gutter.length);
      const caret = text.slice(0, d.col - 1).replace(/[^\t]/g, ' ') + (d.severity === 'error' ? paint.red('^') : paint.yellow('^'));
      return `${head}\n${pad} |\n${gutter} | ${text}\n${pad} | ${caret}`;
    })
    .join('\n');

const escapeData = (s: string) => s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
const escapeProperty = (s: string) => escapeData(s).replace(/:/g, '%3A').replace(/,/g, '%2C');

/** GitHub Actions workflow commands: each finding becomes an annotation on the file. */
export const formatGithub = (diagnostics: readonly Diagnostic[]): string =>
  diagnostics
    .map(
      (d) =>
        `::${d.severity} file=${escapeProperty(d.file)},line=${d.line},col=${d.col},title=${escapeProperty(d.rule)}::${escapeData(d.message)}`,
    )
    .join('\n');

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

export const summarize = (result: LintResult): string => {
  const errors = result.diagnostics.filter((d) => d.severity === 'error').length;
  const warnings = result.diagnostics.length - errors;
  return `${plural(errors, 'error')}, ${plural(warnings, 'warning')} in ${plural(result.files, 'file')}`;
};

/** The exit code of docs/design.md §4 for a lint result. */
export const exitCodeOf = (result: LintResult, strict: boolean): number => {
  if (result.invalid) return ExitCode.usage;
  const failing = result.diagnostics.some((d) => d.severity === 'error' || strict);
  return failing ? ExitCode.failed : ExitCode.ok;
};

export const lintCommand = async (paths: string[], options: LintCommandOptions = {}): Promise<void> => {
  const format = options.format ?? 'pretty';
  const result = await lintPaths(paths, { shellcheck: options.shellcheck ?? true });
  if (result.files === 0) throw usageError(`no runbooks (*.yaml, *.yml) in ${paths.map((p) => `'${p}'`).join(', ')}`);
  if (format === 'json') process.stdout.write(JSON.stringify(result.diagnostics, null, 2) + '\n');
  else if (format === 'github') {
    if (result.diagnostics.length > 0) process.stdout.write(formatGithub(result.diagnostics) + '\n');
  } else {
    const paint = await loadPaint();
    if (result.diagnostics.length > 0) process.stdout.write(formatPretty(result.diagnostics, paint) + '\n');
    process.stdout.write(`${result.diagnostics.length > 0 ? '\n' : ''}${summarize(result)}\n`);
  }
  if (result.shellcheck.status === 'unavailable') process.stderr.write(`runbook: shellcheck skipped: ${result.shellcheck.reason}\n`);
  const code = exitCodeOf(result, options.strict ?? false);
  if (code !== ExitCode.ok) throw new ExitError(code, '');
};
