// A backup id is one fact in two languages: the shell library's rb_backup_ids (restores, by hand
// too) and src/backup/id.ts (`runbook backups`, retention). They must agree on every name.
import { describe, expect, it } from 'vitest';
import { parseBackupId } from '../../src/backup/id.js';
import { runShell } from '../backup/shell.js';

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

describe('backup ids', () => {
  it('the shell and TypeScript accept exactly the same folder names', async () => {
    // Every month and leap-year edge, and a spread of impossible days, hours, minutes and seconds.
    const names: string[] = [];
    for (const year of [1999, 2000, 2024, 2026, 2100]) {
      for (let month = 0; month <= 13; month++) {
        for (const day of [0, 1, 28, 29, 30, 31, 32]) names.push(`${year}-${pad(month)}-${pad(day)}T120000Z`);
      }
    }
    for (const [h, m, s] of [
      [0, 0, 0],
      [23, 59, 59],
      [24, 0, 0],
      [12, 60, 0],
      [12, 0, 60],
      [99, 99, 99],
    ] as const) {
      names.push(`2026-11-20T${pad(h)}${pad(m)}${pad(s)}Z`);
    }
    names.push('2026-11-20T1200Z', 'latest', '2026-11-20T120000', 'x2026-11-20T120000Z');
    const listing = names.map((name) => `${name}/manifest.json`).join('\n');
    const result = await runShell('printf \'%s\\n\' "$LISTING" | rb_backup_ids', { LISTING: listing });
    expect(result.code, result.stderr).toBe(0);
    const expected = names.filter((name) => parseBackupId(name) !== undefined).sort();
    expect(result.stdout.split('\n').filter(Boolean)).toEqual(expected);
    expect(expected.length).toBeGreaterThan(100);
    expect(expected.length).toBeLessThan(names.length - 100);
  });
});
