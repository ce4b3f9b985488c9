# shellcheck shell=bash
# retention.prune verify: after a prune, what remains under DEST is exactly the policy's set
# (`runbook backups --check-policy`); after a dry run, the backups can be listed and are within the RPO.
# Inputs: DEST KEEP_DAILY KEEP_WEEKLY KEEP_MONTHLY RPO APPLY (as for the run).
rb_retention_prune_verify() {
  local rpo_flag=()
  if [ -n "$RPO" ]; then rpo_flag=(--rpo "$RPO"); fi
  if [ "$APPLY" = true ]; then
    runbook backups "$DEST" --keep-daily "$KEEP_DAILY" --keep-weekly "$KEEP_WEEKLY" --keep-monthly "$KEEP_MONTHLY" "${rpo_flag[@]}" --check-policy
  else
    runbook backups "$DEST" "${rpo_flag[@]}"
  fi
}
