// Reads one runbook (or environment) file as YAML 1.2 with every node's position kept, and turns
// whatever is wrong with the bytes or the YAML into positioned findings instead of exceptions.
import { readFileSync, statSync } from 'node:fs';
import { Document, isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, Scalar, visit, type Node } from 'yaml';
import type { Diagnostic, Position } from './diagnostic.js';

/** A path into the document: keys and sequence indexes, as ajv and the rules name them. */
export type NodePath = readonly (string | number)[];

export interface SourceFile {
  /** The path as given (relative paths stay relative, for `file:line:col`). */
  file: string;
  text: string;
  doc: Document.Parsed;
  lineCounter: LineCounter;
  /** The document as plain data; `undefined` when the YAML could not be read safely. */
  value: unknown;
  /** Problems with the bytes or the YAML itself. */
  diagnostics: Diagnostic[];
}

/** Larger files are refused unread: a runbook is a few KiB, and parsing must stay under a second. */
export const maxFileBytes = 1024 * 1024;
/** Aliases are rarely useful in runbooks and are the vehicle of "billion laughs" bombs. */
export const maxAliasCount = 100;
/** Deeper nesting than this is not a runbook, and risks the parser's stack. */
export const maxDepth = 64;

const yaml11Booleans = /^(y|Y|yes|Yes|YES|n|N|no|No|NO|on|On|ON|off|Off|OFF)$/;
const octalLooking = /^[+-]?0[0-7]+$/;

const finding = (file: string, pos: Position, message: string, rule: string): Diagnostic => ({
  file,
  ...pos,
  message,
  rule,
  severity: 'error',
});

const positionAt = (lineCounter: LineCounter, offset: number): Position => {
  const { line, col } = lineCounter.linePos(Math.max(0, offset));
  return { line, col };
};

/** Line and column of a byte offset in raw bytes (for invalid UTF-8, before any decoding). */
const positionOfByte = (bytes: Uint8Array, offset: number): Position => {
  let line = 1;
  let start = 0;
  for (let i = 0; i < offset; i++) {
    if (bytes[i] === 0x0a) {
      line++;
      start = i + 1;
    }
  }
  return { line, col: offset - start + 1 };
};

const firstInvalidUtf8 = (bytes: Uint8Array): number => {
  // Binary search would need a streaming decoder; a linear probe over a ≤1 MiB file is fast enough.
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let low = 0;
  let high = bytes.length;
  while (high - low > 1) {
    const mid = (low + high) >> 1;
    try {
      decoder.decode(bytes.subarray(0, mid), { stream: true });
      low = mid;
    } catch {
      high = mid;
    }
  }
  return low;
};

const emptySource = (file: string, text: string, diagnostics: Diagnostic[]): SourceFile => {
  const lineCounter = new LineCounter();
  return { file, text, doc: parseDocument('', { lineCounter }), lineCounter, value: undefined, diagnostics };
};

const checkNodes = (file: string, doc: Document.Parsed, lineCounter: LineCounter, out: Diagnostic[]): boolean => {
  let aliases = 0;
  let tooDeep = false;
  visit(doc, {
    Alias(_key, node) {
      aliases++;
      if (aliases === maxAliasCount + 1) {
        out.push(
          finding(
            file,
            positionAt(lineCounter, node.range?.[0] ?? 0),
            `more than ${maxAliasCount} aliases; refusing to expand them`,
            'yaml-alias',
          ),
        );
      }
    },
    Pair(_key, pair, path) {
      if (path.length > maxDepth * 2 && !tooDeep) {
        tooDeep = true;
        const key = pair.key as Node | null;
        out.push(finding(file, positionAt(lineCounter, key?.range?.[0] ?? 0), `nesting deeper than ${maxDepth} levels`, 'yaml-depth'));
        return visit.BREAK;
      }
      if (isScalar(pair.key) && pair.key.value === '<<') {
        out.push(
          finding(
            file,
            positionAt(lineCounter, pair.key.range?.[0] ?? 0),
            `merge keys ('<<') are not part of YAML 1.2; write the keys out`,
            'yaml-merge-key',
          ),
        );
      }
      return undefined;
    },
    Scalar(key, node) {
      // Keys such as `on:` are read as strings by every YAML 1.2 tool; only values are ambiguous.
      if (key === 'key' || node.type !== Scalar.PLAIN || !node.source) return;
      const pos = positionAt(lineCounter, node.range?.[0] ?? 0);
      if (yaml11Booleans.test(node.source)) {
        out.push(
          finding(
            file,
            pos,
            `bare '${node.source}' is a string in YAML 1.2 but a boolean in YAML 1.1; write true/false, or quote it`,
            'yaml-boolean',
          ),
        );
      } else if (octalLooking.test(node.source)) {
        out.push(
          finding(
            file,
            pos,
            `'${node.source}' reads as the decimal number ${Number(node.source)} in YAML 1.2, not as octal; quote it if it is a string, or write 0o${node.source.replace(/^[+-]?0/, '')}`,
            'yaml-octal',
          ),
        );
      }
    },
  });
  return aliases <= maxAliasCount && !tooDeep;
};

/** Parses YAML text with positions; never throws for any input. */
export const parseSource = (file: string, text: string): SourceFile => {
  const diagnostics: Diagnostic[] = [];
  const lineCounter = new LineCounter();
  let doc: Document.Parsed;
  try {
    doc = parseDocument(text, { lineCounter, version: '1.2', uniqueKeys: true, prettyErrors: false, merge: false });
  } catch (error) {
    // The parser recurses; pathological nesting can exhaust the stack.
    const reason = error instanceof RangeError ? `nesting too deep to read` : `could not be read as YAML`;
    return emptySource(file, text, [finding(file, { line: 1, col: 1 }, reason, 'yaml-syntax')]);
  }
  for (const error of doc.errors) {
    const rule = error.code === 'DUPLICATE_KEY' ? 'yaml-duplicate-key' : error.code === 'TAB_AS_INDENT' ? 'yaml-tab' : 'yaml-syntax';
    const message = error.message.split('\n')[0]!.replace(/ at line \d+, column \d+.*$/, '');
    diagnostics.push(finding(file, positionAt(lineCounter, error.pos[0]), lowerFirst(message), rule));
  }
  // The parser's warnings (an unsupported `%YAML 1.3`, an unknown directive or tag) mean the file
  // would be read differently elsewhere: for a runbook they are errors.
  for (const warning of doc.warnings) {
    const rule = warning.code === 'BAD_DIRECTIVE' ? 'yaml-directive' : warning.code === 'TAG_RESOLVE_FAILED' ? 'yaml-tag' : 'yaml-syntax';
    const message = warning.message.split('\n')[0]!.replace(/ at line \d+, column \d+.*$/, '');
    diagnostics.push(finding(file, positionAt(lineCounter, warning.pos[0]), lowerFirst(message), rule));
  }
  if (doc.directives?.yaml.explicit && doc.directives.yaml.version !== '1.2') {
    diagnostics.push(
      finding(
        file,
        { line: 1, col: 1 },
        `'%YAML ${doc.directives.yaml.version}' directive: runbooks are YAML 1.2; remove the directive`,
        'yaml-version',
      ),
    );
  }
  const nodesOk = checkNodes(file, doc, lineCounter, diagnostics);
  let value: unknown;
  if (nodesOk && doc.errors.length === 0 && doc.warnings.length === 0) {
    try {
      value = doc.toJS({ maxAliasCount });
    } catch (error) {
      diagnostics.push(
        finding(file, { line: 1, col: 1 }, `could not be read: ${lowerFirst(String((error as Error).message))}`, 'yaml-syntax'),
      );
    }
  }
  return { file, text, doc, lineCounter, value, diagnostics };
};

/** A file refused before it is read, with the finding that says why (at 1:1). */
export const refusedSource = (file: string, message: string, rule: string): SourceFile =>
  emptySource(file, '', [finding(file, { line: 1, col: 1 }, message, rule)]);

/** Reads a file: refuses huge files and invalid UTF-8 with a positioned finding, then parses. */
export const loadSource = (file: string): SourceFile => {
  let bytes: Buffer;
  try {
    const size = statSync(file).size;
    if (size > maxFileBytes) {
      return emptySource(file, '', [
        finding(file, { line: 1, col: 1 }, `file is ${size} bytes; runbooks are limited to ${maxFileBytes} bytes`, 'file-too-large'),
      ]);
    }
    bytes = readFileSync(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason =
      code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a folder, not a file' : `cannot be read (${code ?? 'error'})`;
    return emptySource(file, '', [finding(file, { line: 1, col: 1 }, reason, 'file')]);
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    const offset = firstInvalidUtf8(bytes);
    return emptySource(file, '', [finding(file, positionOfByte(bytes, offset), 'invalid UTF-8; runbooks are UTF-8 text', 'encoding')]);
  }
  if (text.includes('\0')) {
    const offset = Buffer.from(text.slice(0, text.indexOf('\0'))).length;
    return emptySource(file, '', [finding(file, positionOfByte(bytes, offset), 'NUL byte; runbooks are text, not binary', 'encoding')]);
  }
  return parseSource(file, text);
};

const lowerFirst = (text: string): string => text.charAt(0).toLowerCase() + text.slice(1);

/** The node at `path`, or the deepest existing ancestor. */
export const nodeAt = (source: SourceFile, path: NodePath): { node: unknown; exact: boolean } => {
  let node: unknown = source.doc.contents;
  for (let i = 0; i < path.length; i++) {
    const segment = path[i]!;
    let next: unknown;
    if (isMap(node)) next = node.get(segment, true);
    else if (isSeq(node) && typeof segment === 'number') next = node.get(segment, true);
    if (next === undefined || isAlias(next)) return { node, exact: false };
    node = next;
  }
  return { node, exact: true };
};

/** Position of the value at `path` (or, with `key`, of its key); falls back to the nearest ancestor. */
export const positionOf = (source: SourceFile, path: NodePath, options: { key?: boolean } = {}): Position => {
  if (options.key && path.length > 0) {
    const { node: parent, exact } = nodeAt(source, path.slice(0, -1));
    if (exact && isMap(parent)) {
      const pair = parent.items.find((item) => isScalar(item.key) && item.key.value === path[path.length - 1]);
      const key = pair?.key as Node | undefined;
      if (key?.range) return positionAt(source.lineCounter, key.range[0]);
    }
  }
  const { node } = nodeAt(source, path);
  const range = (node as Node | null)?.range;
  return range ? positionAt(source.lineCounter, range[0]) : { line: 1, col: 1 };
};

/** Position of a character offset inside a scalar's *source* (for findings within shell text). */
export const positionInScalar = (source: SourceFile, path: NodePath, index: number): Position => {
  const { node, exact } = nodeAt(source, path);
  if (!exact || !isScalar(node) || !node.range || typeof node.value !== 'string') return positionOf(source, path);
  const value = node.value;
  const raw = source.text.slice(node.range[0], node.range[1]);
  if (node.type === Scalar.BLOCK_LITERAL) {
    // Block literals keep lines verbatim after the indentation: map line/col of the value into the file.
    const before = value.slice(0, index);
    const lineInValue = before.split('\n').length - 1;
    const colInValue = index - (before.lastIndexOf('\n') + 1);
    const header = positionAt(source.lineCounter, node.range[0]);
    const firstContentLine = header.line + 1;
    const lines = raw.split('\n');
    const indent = (lines.slice(1).find((l) => l.trim() !== '') ?? '').search(/\S/);
    return { line: firstContentLine + lineInValue, col: Math.max(indent, 0) + colInValue + 1 };
  }
  if (node.type === Scalar.PLAIN || node.type === Scalar.QUOTE_SINGLE || node.type === Scalar.QUOTE_DOUBLE) {
    const offset = node.type === Scalar.PLAIN ? 0 : 1;
    if (raw.slice(offset, offset + value.length) === value) return positionAt(source.lineCounter, node.range[0] + offset + index);
  }
  return positionAt(source.lineCounter, node.range[0]);
};
