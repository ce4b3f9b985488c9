# git.backup: the manifest's own fields, from --arg source, --slurpfile files (one {name, bytes,
# sha256} per bundle) and --slurpfile repos (one {repo, head, refs} per repository).
{
  source: {path: $source},
  files: $files,
  refs: ($repos | map({(.repo): .refs}) | add),
  heads: ($repos | map(select(.head != "") | {(.repo): .head}) | add // {})
}
