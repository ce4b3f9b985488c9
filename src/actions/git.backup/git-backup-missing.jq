# git.backup: what the backup lacks, one line each, from --rawfile found (the repositories found, one
# a line) and --slurpfile files and repos (as git-backup-manifest.jq takes them): a repository found
# but not stored, a repository with refs but no bundle, one without its metadata tar.
($files | map(.name)) as $names
| (($found | split("\n") | map(select(. != ""))) - ($repos | map(.repo)) | .[] | "\(.): not stored"),
  ($repos[] | select((.refs | length) > 0 and ("bundles/\(.repo).bundle" | IN($names[]) | not)) | "\(.repo): no bundle"),
  ($repos[] | select(.metadata | IN($names[]) | not) | "\(.repo): no \(.metadata)")
