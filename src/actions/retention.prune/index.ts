// retention.prune: grandfather-father-son over the complete backups of a destination, carried out
// by `runbook backups` ($RUNBOOK_BIN, which exec exports), which prints what it keeps and deletes
// and why. Dry run unless `apply: true`.
import type { RetentionPruneInput } from '../../runbook/schema.generated.js';
import { defaultPolicy } from '../../backup/policy.js';
import { callShell, trustRequires, trustValues, type Action } from '../action.js';

export const retentionPrune: Action<RetentionPruneInput> = {
  name: 'retention.prune',
  description:
    'Counts only trusted complete backups (signed by a key of `signers` unless `allow_unsigned`); keeps the newest one of each of the last `keep.daily` days, `keep.weekly` ISO weeks and `keep.monthly` months (UTC), always the newest one, and deletes the rest (and incomplete folders older than a day); refuses to prune when the newest backup is older than the RPO. Dry run unless `apply: true`.',
  verifies:
    "What remains under `dest` is exactly the policy's set (`runbook backups --check-policy`); on a dry run, that the backups can be listed and are within the RPO.",
  requires: (input) => ['rclone', ...trustRequires(input)],
  destructive: (input) => input.apply === true,
  expand: (input, context) => {
    const inputs = {
      DEST: input.dest,
      KEEP_DAILY: input.keep?.daily ?? defaultPolicy.daily,
      KEEP_WEEKLY: input.keep?.weekly ?? defaultPolicy.weekly,
      KEEP_MONTHLY: input.keep?.monthly ?? defaultPolicy.monthly,
      RPO: input.rpo ?? context.rpo ?? '',
      APPLY: input.apply === true,
      ...trustValues(input),
    };
    return { run: callShell('rb_retention_prune_run', inputs), verify: { run: callShell('rb_retention_prune_verify', inputs) } };
  },
};
