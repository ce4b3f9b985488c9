// The lint core: paths in, findings out. Loads every runbook with its includes (YAML, schema and
// include problems come from the loader), runs the rules once per file, shellcheck once per run.
import { readdirSync, statSync, type Dirent } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { byPosition, type Diagnostic } from '../runbook/diagnostic.js';
import { escapeOf } from '../runbook/inside-repository.js';
import { loadSource, positionInScalar, positionOf, refusedSource } from '../runbook/load.js';
import {
  findRepositoryRoot,
  loadTree,
  outsideMessage,
  type IncludeEdge,
  type LoadedRunbook,
  type SourceCache,
} from '../runbook/project.js';
import { listShellTexts, type Rule } from './rule.js';
import { rules as allRules } from './rules/index.js';
import { validateEnvironment } from '../runbook/validate.js';

export interface LintOptions {
  /** Run shellcheck on run/verify texts when it is on PATH. @default true */
  shellcheck?: boolean;
  /** The rules to run. @default every rule of rules/index.ts */
  rules?: readonly Rule[];
  /** Files already parsed and validated, shared with a later resolvePlan. @default a fresh cache */
  sources?: SourceCache;
}

export interface LintResult {
  diagnostics: Diagnostic[];
  /** Files read: runbooks given or found, their includes, environment files. */
  files: number;
  /** Some file could not be read or is not a valid runbook (exit 2 rather than 1). */
  invalid: boolean;
  shellcheck: { status: 'ran' | 'disabled' } | { status: 'unavailable'; reason: string };
}

const isYaml = (name: string) => /\.ya?ml$/.test(name);

/** A link among the files is checked like them (where it leads is checked by the loader). */
const isLinkToFile = (path: string, entry: Dirent): boolean => {
  if (!entry.isSymbolicLink()) return false;
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
};

/** Runbook files and environment files named by `paths` (folders: their YAML files, not recursive). */
export const collectFiles = (paths: readonly string[]): { runbooks: string[]; environments: string[] } => {
  const runbooks: string[] = [];
  const environments: string[] = [];
  for (const path of paths) {
    let folder = false;
    try {
      folder = statSync(path).isDirectory();
    } catch {
      // A missing path becomes the loader's "no such file" finding.
    }
    if (!folder) {
      (basename(dirname(resolve(path))) === 'environments' ? environments : runbooks).push(path);
      continue;
    }
    const yamlIn = (dir: string) =>
      readdirSync(dir, { withFileTypes: true })
        .filter((entry) => (entry.isFile() || isLinkToFile(join(dir, entry.name), entry)) && isYaml(entry.name))
        .map((entry) => join(dir, entry.name))
        .sort();
    runbooks.push(...yamlIn(path));
    const envDir = join(path, 'environments');
    try {
      if (statSync(envDir).isDirectory()) environments.push(...yamlIn(envDir));
    } catch {
      // No environments folder: nothing to check.
    }
  }
  return { runbooks, environments };
};

const keyOf = (d: Diagnostic) => `${d.file}\0${d.line}\0${d.col}\0${d.rule}\0${d.message}`;

/** Lints files and folders; returns the findings, sorted and each once. */
export const lintPaths = async (paths: readonly string[], options: LintOptions = {}): Promise<LintResult> => {
  const { runbooks, environments } = collectFiles(paths);
  const found = new Map<string, Diagnostic>();
  const add = (d: Diagnostic) => found.has(keyOf(d)) || found.set(keyOf(d), d);
  let invalid = false;

  // Each file once, even when several linted runbooks include it.
  const unique = new Map<string, LoadedRunbook>();
  const includers = new Map<string, Map<string, IncludeEdge>>();
  const sources: SourceCache = options.sources ?? new Map();
  // Runbooks of one folder share a repository root: look for .git once per folder, not per file.
  const roots = new Map<string, string>();
  const rootOf = (file: string) => {
    const dir = dirname(resolve(file));
    if (!roots.has(dir)) roots.set(dir, findRepositoryRoot(file));
    return roots.get(dir)!;
  };
  for (const file of runbooks) {
    const tree = loadTree(file, { sources, repositoryRoot: rootOf(file) });
    for (const d of tree.diagnostics) {
      add(d);
      if (d.severity === 'error') invalid = true;
    }
    for (const loaded of tree.files) {
      if (!unique.has(loaded.path)) unique.set(loaded.path, loaded);
      for (const edge of loaded.includes) {
        if (!edge.target) continue;
        const edges = includers.get(edge.target.path) ?? new Map<string, IncludeEdge>();
        edges.set(`${loaded.path}#${edge.index}`, edge);
        includers.set(edge.target.path, edges);
      }
    }
  }
  for (const file of environments) {
    const escape = escapeOf(rootOf(file), file);
    const source = escape ? refusedSource(file, outsideMessage('the environment file', escape), 'outside-repository') : loadSource(file);
    for (const d of [...source.diagnostics, ...validateEnvironment(source)]) {
      add(d);
      invalid = true;
    }
  }

  const valid = [...unique.values()].filter((loaded) => loaded.runbook);
  // A file named (or found in a folder) is checked as a runbook of its own, as `runbook lint FILE`
  // checks it: another file of the folder that includes it must not lend it vars it lacks. A file
  // only included is checked with every include that brings it in.
  const named = new Set(runbooks.map((file) => resolve(file)));
  for (const loaded of valid) {
    const { source } = loaded;
    for (const rule of options.rules ?? allRules) {
      rule.check({
        runbook: loaded.runbook!,
        source,
        loaded,
        includers: named.has(loaded.path) ? [] : [...(includers.get(loaded.path)?.values() ?? [])],
        all: valid,
        report: ({ path, message, index, key }) => {
          const pos = index === undefined ? positionOf(source, path, { key }) : positionInScalar(source, path, index);
          add({ file: source.file, ...pos, message, rule: rule.id, severity: rule.severity });
        },
      });
    }
  }

  let shellcheck: LintResult['shellcheck'] = { status: 'disabled' };
  if (options.shellcheck ?? true) {
    // Imported here so that `--no-shellcheck` runs do not load execa and crypto.
    const { shellcheckSites } = await import('./shellcheck.js');
    const sites = valid.flatMap((loaded) =>
      listShellTexts(loaded.runbook!).map(({ text, path }) => ({ source: loaded.source, path, text })),
    );
    const outcome = await shellcheckSites(sites);
    if (outcome.status === 'ran') outcome.diagnostics.forEach(add);
    shellcheck = outcome.status === 'ran' ? { status: 'ran' } : outcome;
  }

  return { diagnostics: [...found.values()].sort(byPosition), files: unique.size + environments.length, invalid, shellcheck };
};
