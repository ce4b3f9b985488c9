// A plan is plain data that survives JSON, but findings about inputs resolved at run time must still
// point into the file: this keeps the positions of one part of a parsed file as a plain table.
import { isAlias, isMap, isScalar, isSeq } from 'yaml';
import type { Position } from './diagnostic.js';
import { nodeAt, positionOf, type NodePath, type SourceFile } from './load.js';

/** Positions of the nodes at and under one path of a file (and of that path's ancestors). */
export interface PositionTable {
  file: string;
  /** Position of each value, by `JSON.stringify(path)`. */
  values: Record<string, Position>;
  /** Position of each mapping key, by `JSON.stringify(path)` of its value. */
  keys: Record<string, Position>;
}

const keyOf = (path: NodePath): string => JSON.stringify(path);

/** Path segments a lookup can name (NodePath holds strings and numbers only). */
const isSegment = (value: unknown): value is string | number =>
  typeof value === 'string' || (typeof value === 'number' && Number.isFinite(value));

/** Tabulates what {@link positionOf} answers for every path at or under `root`. */
export const tabulatePositions = (source: SourceFile, root: NodePath): PositionTable => {
  const table: PositionTable = { file: source.file, values: {}, keys: {} };
  for (let depth = 0; depth < root.length; depth++) {
    const ancestor = root.slice(0, depth);
    if (!nodeAt(source, ancestor).exact) return table;
    table.values[keyOf(ancestor)] = positionOf(source, ancestor);
  }
  const { node, exact } = nodeAt(source, root);
  if (!exact) return table;
  // Mirrors nodeAt: a mapping is entered by the first pair with a scalar key of that value, a
  // sequence by index; an alias or a missing value ends the walk (lookups fall back to the parent).
  const walk = (current: unknown, path: NodePath) => {
    table.values[keyOf(path)] = positionOf(source, path);
    if (isMap(current)) {
      const seen = new Set<unknown>();
      for (const pair of current.items) {
        if (!isScalar(pair.key) || !isSegment(pair.key.value) || seen.has(pair.key.value)) continue;
        seen.add(pair.key.value);
        const child = [...path, pair.key.value];
        if (pair.key.range) table.keys[keyOf(child)] = positionOf(source, child, { key: true });
        if (pair.value !== null && pair.value !== undefined && !isAlias(pair.value)) walk(pair.value, child);
      }
    } else if (isSeq(current)) {
      current.items.forEach((item, index) => {
        if (item !== undefined && !isAlias(item)) walk(item, [...path, index]);
      });
    }
  };
  walk(node, root);
  return table;
};

/** What {@link positionOf} answers for `path` (at or under the table's root), read from the table. */
export const positionInTable = (table: PositionTable, path: NodePath, options: { key?: boolean } = {}): Position => {
  if (options.key && path.length > 0) {
    const key = table.keys[keyOf(path)];
    if (key) return key;
  }
  for (let depth = path.length; depth >= 0; depth--) {
    const found = table.values[keyOf(path.slice(0, depth))];
    if (found) return found;
  }
  return { line: 1, col: 1 };
};
