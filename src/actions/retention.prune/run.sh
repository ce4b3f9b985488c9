# shellcheck shell=bash
# retention.prune run: `runbook backups --prune` over DEST with the policy; it prints what it keeps
# and deletes and why, and refuses when the newest complete backup is older than the RPO.
# Inputs: DEST KEEP_DAILY KEEP_WEEKLY KEEP_MONTHLY RPO (a duration, or empty for none) APPLY (true
# deletes; false is a dry run).
rb_retention_prune_run() {
  local rpo_flag=() apply_flag=()
  if [ -n "$RPO" ]; then rpo_flag=(--rpo "$RPO"); fi
  if [ "$APPLY" = true ]; then apply_flag=(--apply); fi
  runbook backups "$DEST" --prune --keep-daily "$KEEP_DAILY" --keep-weekly "$KEEP_WEEKLY" --keep-monthly "$KEEP_MONTHLY" "${rpo_flag[@]}" "${apply_flag[@]}"
}
