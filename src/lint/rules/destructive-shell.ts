// Principle 8: a step that destroys data asks first (`confirm`, answered by --yes in automation).
import { listShellTexts, type Rule } from '../rule.js';

/** Commands that destroy data; `[^\n;&|]*` keeps a match inside one command. */
const destructive: { pattern: RegExp; what: string }[] = [
  { pattern: /\bdropdb\b/, what: 'dropdb' },
  { pattern: /\bDROP\s+(?:DATABASE|TABLE|SCHEMA)\b/i, what: 'DROP' },
  { pattern: /\bTRUNCATE\s+(?:TABLE\s+)?[A-Za-z_"]/i, what: 'TRUNCATE' },
  { pattern: /\bDELETE\s+FROM\b/i, what: 'DELETE FROM' },
  {
    pattern:
      /\brm\s+(?:-[a-zA-Z]*[rR][a-zA-Z]*f|-[a-zA-Z]*f[a-zA-Z]*[rR]|(?:-[a-zA-Z]*[rR][a-zA-Z]*|--recursive)\s+(?:-[a-zA-Z]*f|--force)|(?:-[a-zA-Z]*f[a-zA-Z]*|--force)\s+(?:-[a-zA-Z]*[rR]|--recursive))/,
    what: 'rm -rf',
  },
  { pattern: /\brclone\b[^\n;&|]*?\s(?:purge|delete|deletefile|rmdirs)\b/, what: 'rclone purge/delete' },
  { pattern: /\bmkfs(?:\.[a-z0-9]+)?\b/, what: 'mkfs' },
  { pattern: /\bdd\b[^\n;&|]*\sof=/, what: 'dd of=' },
  { pattern: /\bpg_restore\b[^\n;&|]*\s(?:--clean\b|-c\b)/, what: 'pg_restore --clean' },
  { pattern: /\bdocker\s+(?:volume\s+(?:rm|prune)|system\s+prune)\b/, what: 'docker volume rm' },
  { pattern: /\bdocker[\s-]compose\b[^\n;&|]*\sdown\b[^\n;&|]*\s(?:-v\b|--volumes\b)/, what: 'docker compose down -v' },
  { pattern: /\b(?:wipefs|shred)\b/, what: 'wipefs/shred' },
];

/** The first destructive command in `text`, with its offset. */
export const findDestructive = (text: string): { index: number; command: string } | undefined => {
  let first: { index: number; command: string } | undefined;
  for (const { pattern, what } of destructive) {
    const match = pattern.exec(text);
    // The matched text names the command best, unless it spans half the command line.
    const command = match && match[0].trim().length <= 24 ? match[0].trim() : what;
    if (match && (!first || match.index < first.index)) first = { index: match.index, command };
  }
  return first;
};

export const destructiveShell: Rule = {
  id: 'destructive-shell',
  severity: 'error',
  description: 'A step whose shell destroys data (dropdb, DROP, rm -rf, rclone purge, mkfs, dd of=…) needs confirm.',
  check: ({ runbook, report }) => {
    for (const { text, path, located, role } of listShellTexts(runbook)) {
      if (role !== 'run' || located.step.confirm !== undefined) continue;
      const found = findDestructive(text);
      if (found) {
        report({
          path,
          index: found.index,
          message: `'${found.command}' destroys data, but step '${located.step.id}' has no 'confirm'. note that 'confirm' asks the operator first (--yes answers it)`,
        });
      }
    }
  },
};
