// The repository a run reads its files from is a boundary: a file counts as inside only where it
// really is, after every symbolic link on its path (a committed link can point anywhere).
import { lstatSync, readlinkSync, realpathSync } from 'node:fs';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';

/** Whether `path` is `root` or below it (both as written: no link is followed). */
export const isInside = (root: string, path: string): boolean => {
  const rel = relative(root, path);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
};

const realOrSelf = (path: string): string => {
  try {
    return realpathSync(path);
  } catch {
    return resolve(path);
  }
};

/**
 * Where `path` really leads when that is outside `root` (both followed through every link);
 * undefined when it stays inside, or does not exist (the caller reports a missing file).
 */
export const escapeOf = (root: string, path: string): string | undefined => {
  let real: string;
  try {
    real = realpathSync(path);
  } catch {
    return undefined;
  }
  return isInside(realOrSelf(root), real) ? undefined : real;
};

/** The link limit of Linux's path resolution (ELOOP): a longer chain is a loop. */
const maxLinks = 40;

/**
 * Every symbolic link followed on the way from `path` to the file it leads to, each named by a path
 * whose folders are real (no link in them), so that git can be asked about the link itself.
 */
export const linksFollowed = (path: string): string[] => {
  const links: string[] = [];
  let pending = resolve(path).split(sep).filter(Boolean);
  let current: string = sep;
  while (pending.length > 0) {
    const next = join(current, pending.shift()!);
    let target: string;
    try {
      if (!lstatSync(next).isSymbolicLink()) {
        current = next;
        continue;
      }
      target = readlinkSync(next);
    } catch {
      return links;
    }
    if (links.length === maxLinks) return links;
    links.push(next);
    pending = [...resolve(current, target).split(sep).filter(Boolean), ...pending];
    current = sep;
  }
  return links;
};
