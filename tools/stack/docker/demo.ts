// `npm run demo:docker`: the production cycle (cycle.ts) as a drill on a real Docker engine, with
// its timings against the restore runbooks' RTOs.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { parseDuration } from '../../../src/runbook/duration.js';
import { say } from '../demo.js';
import { repository } from '../repository.js';
import { RESTORE_RUNBOOKS, runProductionCycle } from './cycle.js';

/** The restore runbooks' RTOs in seconds, summed: they run one after the other. */
const rtoSeconds = (): number =>
  RESTORE_RUNBOOKS.reduce((sum, name) => {
    const { rto } = parse(readFileSync(join(repository, 'runbooks', `${name}.yaml`), 'utf8')) as { rto: string };
    return sum + parseDuration(rto)! / 1000;
  }, 0);

const main = async () => {
  const root = mkdtempSync(join(tmpdir(), 'runbook-docker-drill-'));
  let code = 1;
  try {
    const report = await runProductionCycle({ root, rows: Number(process.env.RUNBOOK_DEMO_ROWS ?? 20_000), log: say });
    say('Comparing every table, role, setting, owner, file and repository with what was there before');
    if (report.differences.length) {
      process.stdout.write(`not restored exactly:\n  ${report.differences.join('\n  ')}\n`);
    } else {
      const { rows, files, repositories } = report.seeded;
      process.stdout.write(`all equal: ${rows} rows in 4 databases, ${files} files, ${repositories} repositories\n`);
      code = 0;
    }
    const rto = rtoSeconds();
    process.stdout.write(
      `image ${report.seconds.image.toFixed(0)} s · backups ${report.seconds.backup.toFixed(0)} s · ` +
        `restore from fresh containers ${report.seconds.restore.toFixed(0)} s against an RTO of ${rto / 60} min ` +
        `(${((100 * report.seconds.restore) / rto).toFixed(1)} %)\n`,
    );
  } catch (error) {
    process.stderr.write(`demo:docker: ${(error as Error).message}\n`);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  process.exitCode = code;
};

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
