// One shape for every finding, whoever found it: schema, YAML parser, lint rule or shellcheck.

export type Severity = 'error' | 'warning';

export interface Position {
  /** 1-based line. */
  line: number;
  /** 1-based column. */
  col: number;
}

export interface Diagnostic extends Position {
  file: string;
  message: string;
  /** Rule id, shown in brackets: `missing-verify`, `schema`, `yaml-syntax`, `shellcheck/SC2086`… */
  rule: string;
  severity: Severity;
}

/** `file:line:col: message [rule]`, as actionlint prints it. */
export const formatDiagnostic = (d: Diagnostic): string =>
  `${d.file}:${d.line}:${d.col}: ${d.severity === 'warning' ? 'warning: ' : ''}${d.message} [${d.rule}]`;

export const byPosition = (a: Diagnostic, b: Diagnostic): number =>
  a.file.localeCompare(b.file) || a.line - b.line || a.col - b.col || a.rule.localeCompare(b.rule);

export const hasErrors = (diagnostics: readonly Diagnostic[]): boolean => diagnostics.some((d) => d.severity === 'error');
