# shellcheck shell=bash
# retention.prune verify: after a prune, what remains under DEST is exactly the policy's set
# (`runbook backups --check-policy`, trusting what the run trusted); after a dry run, the backups can
# be listed and are within the RPO.
# Inputs: DEST KEEP_DAILY KEEP_WEEKLY KEEP_MONTHLY RPO APPLY SIGNERS ALLOW_UNSIGNED (as for the run).
rb_retention_prune_verify() {
  local rpo_flag=()
  rb_work retention-verify
  rb_backup_trust_args "$WORK/signers"
  if [ -n "$RPO" ]; then rpo_flag=(--rpo "$RPO"); fi
  if [ "$APPLY" = true ]; then
    "${RUNBOOK_BIN:-runbook}" backups "$DEST" --keep-daily "$KEEP_DAILY" --keep-weekly "$KEEP_WEEKLY" --keep-monthly "$KEEP_MONTHLY" "${rpo_flag[@]}" --check-policy "${TRUST_ARGS[@]}"
  else
    "${RUNBOOK_BIN:-runbook}" backups "$DEST" "${rpo_flag[@]}" "${TRUST_ARGS[@]}"
  fi
}
