// A runbook together with the runbooks it includes: paths resolved relative to the including file,
// never outside the repository (as written, nor where a symbolic link leads), cycles refused.
import { existsSync, statSync } from 'node:fs';
import { dirname, relative, resolve, basename } from 'node:path';
import type { Diagnostic } from './diagnostic.js';
import { escapeOf, isInside } from './inside-repository.js';
import { loadSource, positionOf, refusedSource, type SourceFile } from './load.js';
import type { Include, Runbook, Vars } from './schema.generated.js';
import { validateRunbook } from './validate.js';

export interface IncludeEdge {
  /** Index in the including runbook's `include` list. */
  index: number;
  /** Prefix of the included step ids. */
  id: string;
  needs: string[];
  vars: Vars;
  /** The included runbook; undefined when it could not be loaded. */
  target?: LoadedRunbook;
}

export interface LoadedRunbook {
  source: SourceFile;
  /** Absolute path. */
  path: string;
  /** The document, typed once it passed the schema; undefined otherwise. */
  runbook?: Runbook;
  includes: IncludeEdge[];
}

export interface LoadedTree {
  root: LoadedRunbook;
  /** Every file of the tree once, root first. */
  files: LoadedRunbook[];
  diagnostics: Diagnostic[];
  /** The folder nothing the tree reads may leave. */
  repositoryRoot: string;
}

/** The nearest folder holding `.git`, else the runbook's own folder. */
export const findRepositoryRoot = (file: string): string => {
  let dir = dirname(resolve(file));
  for (;;) {
    if (existsSync(resolve(dir, '.git'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) return dirname(resolve(file));
    dir = parent;
  }
};

const includePath = (entry: Include): string => (typeof entry === 'string' ? entry : entry.path);

/** Parsed and schema-checked files by absolute path, shared by several {@link loadTree} calls. */
export type SourceCache = Map<string, { source: SourceFile; schemaFindings: Diagnostic[] }>;

export interface LoadTreeOptions {
  /** @default the nearest folder holding `.git` ({@link findRepositoryRoot}) */
  repositoryRoot?: string;
  /**
   * Reuse files already parsed and validated by an earlier call: lint
   * loads every runbook of a folder, and a runbook included by others would otherwise be read again
   * for each of them. @default a fresh cache per call
   */
  sources?: SourceCache;
}

/** Loads and validates `file` and, recursively, what it includes. */
export const loadTree = (file: string, options: LoadTreeOptions = {}): LoadedTree => {
  const repositoryRoot = options.repositoryRoot ?? findRepositoryRoot(file);
  const diagnostics: Diagnostic[] = [];
  const byPath = new Map<string, LoadedRunbook>();
  const files: LoadedRunbook[] = [];

  const load = (displayPath: string, stack: string[]): LoadedRunbook => {
    const path = resolve(displayPath);
    const known = byPath.get(path);
    if (known) return known;
    let cached = options.sources?.get(path);
    if (!cached) {
      const escape = escapeOf(repositoryRoot, path);
      const source = escape
        ? refusedSource(displayPath, outsideMessage('the runbook', escape), 'outside-repository')
        : loadSource(displayPath);
      cached = { source, schemaFindings: validateRunbook(source) };
      options.sources?.set(path, cached);
    }
    const { source, schemaFindings } = cached;
    diagnostics.push(...source.diagnostics, ...schemaFindings);
    const loaded: LoadedRunbook = { source, path, includes: [] };
    if (source.value !== undefined && source.diagnostics.length === 0 && schemaFindings.length === 0)
      loaded.runbook = source.value as Runbook;
    byPath.set(path, loaded);
    files.push(loaded);

    const entries = (loaded.runbook?.include ?? []) as Include[];
    entries.forEach((entry, index) => {
      const at = typeof entry === 'string' ? ['include', index] : ['include', index, 'path'];
      const report = (message: string, rule: string) =>
        diagnostics.push({ file: source.file, ...positionOf(source, at), message, rule, severity: 'error' });
      const targetPath = resolve(dirname(path), includePath(entry));
      const display = relative(process.cwd(), targetPath) || targetPath;
      if (!isInside(repositoryRoot, targetPath)) {
        report(`include '${includePath(entry)}' points outside the repository (${repositoryRoot})`, 'include-outside-repository');
        return;
      }
      if (stack.includes(targetPath)) {
        const cycle = [...stack.slice(stack.indexOf(targetPath)), targetPath].map((p) => relative(process.cwd(), p) || p);
        report(`include cycle: ${cycle.join(' -> ')}`, 'include-cycle');
        return;
      }
      if (!existsSync(targetPath)) {
        report(`include '${includePath(entry)}' does not exist`, 'include-missing');
        return;
      }
      if (statSync(targetPath).isDirectory()) {
        report(`include '${includePath(entry)}' is a folder; name a runbook file`, 'include-missing');
        return;
      }
      const escape = escapeOf(repositoryRoot, targetPath);
      if (escape) {
        report(outsideMessage(`include '${includePath(entry)}'`, escape), 'include-outside-repository');
        return;
      }
      const target = load(display, [...stack, targetPath]);
      const id = (typeof entry === 'object' && entry.id) || target.runbook?.name || basename(targetPath).replace(/\.ya?ml$/, '');
      loaded.includes.push({
        index,
        id,
        needs: typeof entry === 'object' ? (entry.needs ?? []) : [],
        vars: typeof entry === 'object' ? (entry.vars ?? {}) : {},
        target,
      });
    });
    return loaded;
  };

  const root = load(file, [resolve(file)]);
  return { root, files, diagnostics, repositoryRoot };
};

/** Why a file whose real location is `real` is refused. */
export const outsideMessage = (what: string, real: string): string =>
  `${what} leads outside the repository through a symbolic link (to ${real})`;
