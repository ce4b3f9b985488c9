// The shipped backup runbooks a stack's cycle runs, in the order of their schedule: the demos, the
// end-to-end tests and the benchmarks use this one list.
export const BACKUP_RUNBOOKS = [
  'backup-config',
  'backup-supabase',
  'backup-twenty',
  'backup-gitea-db',
  'backup-dam-db',
  'backup-gitea-repos',
  'backup-files',
] as const;
