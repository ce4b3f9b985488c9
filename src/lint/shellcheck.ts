// Runs shellcheck over every run/verify text of a lint run in as few processes as possible (one per
// core), each unique text once, and maps its findings back to the runbook's line and column.
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import type { Diagnostic } from '../runbook/diagnostic.js';
import { positionInScalar, type NodePath, type SourceFile } from '../runbook/load.js';

/** What the engine puts in front of every shell text: shellcheck should see the same. */
const header = '#!/bin/bash\nset -euo pipefail\n';
const headerLines = 2;

/**
 * Codes that make no sense for snippets: vars and secrets are exported environment variables
 * (SC2154), sourced files are not available here (SC1090, SC1091), and the shebang is ours (SC2148).
 */
export const excludedCodes = ['SC1090', 'SC1091', 'SC2148', 'SC2154'];

/** Files per shellcheck process at most, to stay far below the argument-length limit. */
const maxFilesPerProcess = 4000;

export interface ShellTextSite {
  source: SourceFile;
  /** Path of the string scalar holding the text. */
  path: NodePath;
  text: string;
}

interface Json1Comment {
  file: string;
  line: number;
  column: number;
  level: 'error' | 'warning' | 'info' | 'style';
  code: number;
  message: string;
}

export type ShellcheckOutcome = { status: 'ran'; diagnostics: Diagnostic[] } | { status: 'unavailable'; reason: string };

const runShellcheck = async (cwd: string, files: string[]): Promise<{ comments: Json1Comment[] } | { missing: string }> => {
  const result = await execa('shellcheck', ['--format=json1', '-s', 'bash', '-e', excludedCodes.join(','), ...files], {
    cwd,
    stdin: 'ignore',
    reject: false,
  });
  if (result.code === 'ENOENT') return { missing: 'shellcheck is not on PATH' };
  // Not started at all (other than missing): a bug or a broken system, not a finding.
  if (result.exitCode === undefined && !result.isTerminated) throw result;
  // 0: clean, 1: findings; anything else is shellcheck failing.
  if (result.exitCode !== 0 && result.exitCode !== 1)
    return { missing: `shellcheck failed (exit ${result.exitCode ?? null}): ${result.stderr.trim().split('\n')[0]}` };
  try {
    return JSON.parse(result.stdout || '{"comments":[]}') as { comments: Json1Comment[] };
  } catch {
    return { missing: 'shellcheck printed no JSON' };
  }
};

/**
 * `${{ … }}` in shell text is expression-in-shell's finding; to shellcheck it is a bad parameter
 * expansion. Blank it out as a plain word of the same length so that columns stay put.
 */
const maskExpressions = (text: string): string => text.replace(/\$\{\{[\s\S]*?\}\}/g, (m) => m.replace(/[^\n]/g, '_'));

/** Offset in `text` of a 1-based line and column (json1 counts a tab as one column). */
const offsetOf = (text: string, line: number, column: number): number => {
  let offset = 0;
  for (let l = 1; l < line; l++) {
    const next = text.indexOf('\n', offset);
    if (next < 0) return text.length;
    offset = next + 1;
  }
  return Math.min(offset + column - 1, text.length);
};

/** Checks every text; identical texts are checked once and reported at each site. */
export const shellcheckSites = async (sites: readonly ShellTextSite[]): Promise<ShellcheckOutcome> => {
  const byText = new Map<string, { name: string; sites: ShellTextSite[] }>();
  for (const site of sites) {
    const hash = createHash('sha1').update(site.text).digest('hex').slice(0, 16);
    const entry = byText.get(hash) ?? { name: `${byText.size}.sh`, sites: [] };
    entry.sites.push(site);
    byText.set(hash, entry);
  }
  if (byText.size === 0) return { status: 'ran', diagnostics: [] };
  const dir = mkdtempSync(join(tmpdir(), 'runbook-shellcheck-'));
  try {
    const byName = new Map<string, ShellTextSite[]>();
    for (const { name, sites: same } of byText.values()) {
      writeFileSync(join(dir, name), header + maskExpressions(same[0]!.text) + '\n', { mode: 0o600 });
      byName.set(name, same);
    }
    const names = [...byName.keys()];
    // Small runs use one process; large ones spread over the cores.
    const processes = Math.max(1, Math.min(availableParallelism(), Math.ceil(names.length / 200)));
    const perProcess = Math.min(maxFilesPerProcess, Math.ceil(names.length / processes));
    const chunks: string[][] = [];
    for (let i = 0; i < names.length; i += perProcess) chunks.push(names.slice(i, i + perProcess));
    const results = await Promise.all(chunks.map((chunk) => runShellcheck(dir, chunk)));
    const diagnostics: Diagnostic[] = [];
    for (const result of results) {
      if ('missing' in result) return { status: 'unavailable', reason: result.missing };
      for (const comment of result.comments) {
        if (comment.line <= headerLines) continue;
        for (const site of byName.get(comment.file) ?? []) {
          const index = offsetOf(site.text, comment.line - headerLines, comment.column);
          diagnostics.push({
            file: site.source.file,
            ...positionInScalar(site.source, site.path, index),
            message: lowerFirst(comment.message.replace(/\.$/, '')),
            rule: `shellcheck/SC${comment.code}`,
            severity: comment.level === 'error' ? 'error' : 'warning',
          });
        }
      }
    }
    return { status: 'ran', diagnostics };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
};

const lowerFirst = (text: string): string => (/^[A-Z][a-z]/.test(text) ? text.charAt(0).toLowerCase() + text.slice(1) : text);
