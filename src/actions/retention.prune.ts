// retention.prune: grandfather-father-son over the complete backups of a destination, carried out
// by `runbook backups` (the package's bin is on PATH when a step runs), which prints what it keeps
// and deletes and why. Dry run unless `apply: true`.
import type { Action } from './action.js';
import type { RetentionPruneInput } from '../runbook/schema.generated.js';
import { defaultPolicy } from '../backup/policy.js';
import { shellAssignments } from '../shell/quote.js';

export const retentionPrune: Action<RetentionPruneInput> = {
  name: 'retention.prune',
  description:
    'Keeps the newest complete backup of each of the last `keep.daily` days, `keep.weekly` ISO weeks and `keep.monthly` months (UTC), always the newest one, and deletes the rest (and incomplete folders older than a day); refuses to prune when the newest backup is older than the RPO. Dry run unless `apply: true`.',
  verifies:
    "What remains under `dest` is exactly the policy's set (`runbook backups --check-policy`); on a dry run, that the backups can be listed and are within the RPO.",
  requires: () => ['rclone'],
  destructive: (input) => input.apply === true,
  expand: (input, context) => {
    const rpo = input.rpo ?? context.rpo;
    const head = shellAssignments({
      dest: input.dest,
      keep_daily: input.keep?.daily ?? defaultPolicy.daily,
      keep_weekly: input.keep?.weekly ?? defaultPolicy.weekly,
      keep_monthly: input.keep?.monthly ?? defaultPolicy.monthly,
      rpo,
    });
    const policy = '--keep-daily "$keep_daily" --keep-weekly "$keep_weekly" --keep-monthly "$keep_monthly"';
    const rpoFlag = rpo ? ' --rpo "$rpo"' : '';
    return {
      run: [head, `runbook backups "$dest" --prune ${policy}${rpoFlag}${input.apply ? ' --apply' : ''}`].join('\n'),
      verify: {
        run: [head, input.apply ? `runbook backups "$dest" ${policy}${rpoFlag} --check-policy` : `runbook backups "$dest"${rpoFlag}`].join(
          '\n',
        ),
      },
    };
  },
};
