# shellcheck shell=bash
# retention.prune run: `runbook backups --prune` over DEST with the policy; it prints what it keeps
# and deletes and why, and refuses when the newest trusted complete backup is older than the RPO.
# Only trusted complete backups (src/backup/trust.ts: signed by a key of SIGNERS unless
# ALLOW_UNSIGNED) are counted; an untrusted folder is kept for a person to look at.
# Inputs: DEST KEEP_DAILY KEEP_WEEKLY KEEP_MONTHLY RPO (a duration, or empty for none) APPLY (true
# deletes; false is a dry run) SIGNERS ALLOW_UNSIGNED.
rb_retention_prune_run() {
  local rpo_flag=() apply_flag=()
  rb_work retention
  rb_backup_trust_args "$WORK/signers"
  if [ -n "$RPO" ]; then rpo_flag=(--rpo "$RPO"); fi
  if [ "$APPLY" = true ]; then apply_flag=(--apply); fi
  "${RUNBOOK_BIN:-runbook}" backups "$DEST" --prune --keep-daily "$KEEP_DAILY" --keep-weekly "$KEEP_WEEKLY" --keep-monthly "$KEEP_MONTHLY" "${rpo_flag[@]}" "${apply_flag[@]}" "${TRUST_ARGS[@]}"
}
