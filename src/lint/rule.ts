// The shape of a lint rule and what it is given, as eslint has it: a rule only reports; the core
// positions, deduplicates and sorts. A throw in a rule is a bug, never a user finding.
import type { Severity } from '../runbook/diagnostic.js';
import {
  ExpressionError,
  findExpressions,
  parseExpression,
  referencesOf,
  type ExpressionNode,
  type FoundExpression,
} from '../runbook/expression.js';
import type { NodePath, SourceFile } from '../runbook/load.js';
import type { IncludeEdge, LoadedRunbook } from '../runbook/project.js';
import type { Runbook, Step } from '../runbook/schema.generated.js';

export interface Report {
  /** Where the finding is: a path into the document, e.g. `['steps', 2, 'verify']`. */
  path: NodePath;
  /** One line, lower-case start, values quoted. */
  message: string;
  /** An offset inside the string scalar at `path` (shell text, expressions). */
  index?: number;
  /** Point at the key rather than the value. @default false */
  key?: boolean;
}

export interface RuleContext {
  /** The schema-valid runbook being checked. */
  runbook: Runbook;
  source: SourceFile;
  /** The runbook with its includes resolved. */
  loaded: LoadedRunbook;
  /** Include edges (of any linted file) that point at this runbook. */
  includers: readonly IncludeEdge[];
  /** Every schema-valid runbook of this lint run, each once (for rules across files). */
  all: readonly LoadedRunbook[];
  report: (report: Report) => void;
}

export interface Rule {
  /** Kebab-case id, the rule's file name, shown as `[id]`. */
  id: string;
  severity: Severity;
  /** One sentence for docs and `--format json` consumers. */
  description: string;
  check: (context: RuleContext) => void;
}

/** A step with where it sits in the document. */
export interface LocatedStep {
  step: Step;
  path: ['steps' | 'cleanup', number];
  /** Position in file order: steps first, then cleanup. */
  order: number;
  cleanup: boolean;
}

/** Several rules walk the same runbook: derive each list once per runbook object. */
const memoize = <T extends object, R>(derive: (input: T) => R): ((input: T) => R) => {
  const cache = new WeakMap<T, R>();
  return (input) => {
    if (!cache.has(input)) cache.set(input, derive(input));
    return cache.get(input)!;
  };
};

/** Steps and cleanup steps in file order: they share one id namespace. */
export const listSteps = memoize((runbook: Runbook): LocatedStep[] => [
  ...runbook.steps.map((step, i): LocatedStep => ({ step, path: ['steps', i], order: i, cleanup: false })),
  ...(runbook.cleanup ?? []).map((step, i): LocatedStep => ({
    step,
    path: ['cleanup', i],
    order: runbook.steps.length + i,
    cleanup: true,
  })),
]);

/** A piece of shell text of a step: `run`, a string `verify`, or `verify.run`. */
export interface ShellText {
  text: string;
  path: NodePath;
  located: LocatedStep;
  role: 'run' | 'verify';
}

export const listShellTexts = memoize((runbook: Runbook): ShellText[] =>
  listSteps(runbook).flatMap((located) => {
    const { step, path } = located;
    const texts: ShellText[] = [];
    if (typeof step.run === 'string') texts.push({ text: step.run, path: [...path, 'run'], located, role: 'run' });
    if (typeof step.verify === 'string') texts.push({ text: step.verify, path: [...path, 'verify'], located, role: 'verify' });
    else if (step.verify) texts.push({ text: step.verify.run, path: [...path, 'verify', 'run'], located, role: 'verify' });
    return texts;
  }),
);

/** A string value where `${{ … }}` expressions are resolved (not shell text). */
export interface ExpressionSite {
  text: string;
  path: NodePath;
  /** The step it belongs to, if any. */
  located?: LocatedStep;
  /** `when` is an expression even without `${{ }}`. */
  bare: boolean;
}

const stringsIn = (value: unknown, path: NodePath, out: { text: string; path: NodePath }[]) => {
  // Only strings holding an expression matter (`when` is handled apart).
  if (typeof value === 'string') {
    if (value.includes('${{')) out.push({ text: value, path });
  } else if (Array.isArray(value)) value.forEach((item, i) => stringsIn(item, [...path, i], out));
  else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) stringsIn(v, [...path, k], out);
  return out;
};

/** Every place an expression is evaluated: `with`, `env`, `when`, `notify`, include `vars`. */
export const listExpressionSites = memoize((runbook: Runbook): ExpressionSite[] => {
  const sites: ExpressionSite[] = [];
  for (const located of listSteps(runbook)) {
    const { step, path } = located;
    for (const s of stringsIn(step.with, [...path, 'with'], [])) sites.push({ ...s, located, bare: false });
    for (const s of stringsIn(step.env, [...path, 'env'], [])) sites.push({ ...s, located, bare: false });
    if (typeof step.when === 'string') sites.push({ text: step.when, path: [...path, 'when'], located, bare: !step.when.includes('${{') });
  }
  for (const s of stringsIn(runbook.notify?.ping, ['notify', 'ping'], [])) sites.push({ ...s, bare: false });
  for (const s of stringsIn(runbook.notify?.webhook, ['notify', 'webhook'], [])) sites.push({ ...s, bare: false });
  (runbook.include ?? []).forEach((entry, i) => {
    if (typeof entry === 'object') for (const s of stringsIn(entry.vars, ['include', i, 'vars'], [])) sites.push({ ...s, bare: false });
  });
  return sites;
});

/** `'a', 'b' and 'c'`. */
export const quoteList = (items: readonly string[]): string => {
  const quoted = items.map((item) => `'${item}'`);
  return quoted.length <= 1 ? quoted.join('') : `${quoted.slice(0, -1).join(', ')} and ${quoted[quoted.length - 1]}`;
};

export interface SiteReference {
  ref: Extract<ExpressionNode, { type: 'ref' }>;
  /** Offset of the reference inside the site's text. */
  index: number;
}

export interface ParsedSite {
  references: SiteReference[];
  errors: { message: string; index: number }[];
}

/** Parses every expression of a site; errors come back with their offset in the site's text. */
export const parseSite = memoize((site: ExpressionSite): ParsedSite => {
  const parsed: ParsedSite = { references: [], errors: [] };
  const parseAt = (source: string, base: number) => {
    try {
      for (const ref of referencesOf(parseExpression(source))) parsed.references.push({ ref, index: base + ref.offset });
    } catch (error) {
      if (!(error instanceof ExpressionError)) throw error;
      parsed.errors.push({ message: error.message, index: base + error.offset });
    }
  };
  if (site.bare) {
    parseAt(site.text, 0);
    return parsed;
  }
  let found: FoundExpression[];
  try {
    found = findExpressions(site.text);
  } catch (error) {
    if (!(error instanceof ExpressionError)) throw error;
    parsed.errors.push({ message: error.message, index: error.offset });
    return parsed;
  }
  for (const expression of found) parseAt(expression.source, expression.sourceStart);
  return parsed;
});
