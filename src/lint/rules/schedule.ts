// A backup that never runs is the failure nobody notices: backups need a schedule that parses.
import { CronError, parseCron } from '../cron.js';
import type { Rule } from '../rule.js';

export const schedule: Rule = {
  id: 'schedule',
  severity: 'error',
  description: 'A backup runbook has a schedule, and a schedule is a valid five-field cron expression (UTC).',
  check: ({ runbook, report }) => {
    if (runbook.schedule === undefined) {
      if (runbook.kind === 'backup')
        report({
          path: ['kind'],
          message: `backup runbook '${runbook.name}' has no 'schedule'. note that it is a five-field cron expression in UTC, e.g. '0 2 * * *'`,
        });
      return;
    }
    try {
      parseCron(runbook.schedule);
    } catch (error) {
      if (!(error instanceof CronError)) throw error;
      report({ path: ['schedule'], index: error.offset, message: `invalid schedule '${runbook.schedule.trim()}': ${error.message}` });
    }
  },
};
