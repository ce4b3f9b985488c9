// `npm run demo:docker`: the production cycle (cycle.ts) on a real Docker engine - backups, the
// disaster, `runbook drill runbooks/recover-full.yaml` from the bucket alone - and its drill report.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { say } from '../demo.js';
import { runProductionCycle } from './cycle.js';

const main = async () => {
  const root = mkdtempSync(join(tmpdir(), 'runbook-docker-drill-'));
  let code = 1;
  try {
    const report = await runProductionCycle({ root, rows: Number(process.env.RUNBOOK_DEMO_ROWS ?? 20_000), log: say });
    say('The drill report');
    process.stdout.write(report.report);
    say('Comparing every table, role, setting, owner, file, repository and secret with what was there before');
    const sick = Object.entries(report.health).filter(([, health]) => !health.ok);
    const problems = [...report.differences, ...sick.map(([service, health]) => `${service} is not healthy: ${health.body}`)];
    if (problems.length) {
      process.stdout.write(`not restored exactly:\n  ${problems.join('\n  ')}\n`);
    } else {
      const { rows, files, repositories } = report.seeded;
      process.stdout.write(
        `all equal: ${rows} rows in 4 databases, ${files} files, ${repositories} repositories; ` +
          `${Object.keys(report.health).length} applications answer\n`,
      );
      code = 0;
    }
    process.stdout.write(
      `image ${report.seconds.image.toFixed(0)} s · backups ${report.seconds.backup.toFixed(0)} s · ` +
        `recovery from the bucket alone ${report.seconds.recovery.toFixed(0)} s\n`,
    );
  } catch (error) {
    process.stderr.write(`demo:docker: ${(error as Error).message}\n`);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  process.exitCode = code;
};

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
