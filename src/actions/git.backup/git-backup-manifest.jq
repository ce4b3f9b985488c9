# git.backup: the manifest's own fields, from --arg source, --slurpfile files (one {name, bytes,
# sha256} per bundle and tar) and --slurpfile repos (one {repo, head, refs, uid, gid, metadata,
# entries} per repository). run.sh documents the shape.
{
  source: {path: $source},
  files: $files,
  refs: ($repos | map({(.repo): .refs}) | add),
  heads: ($repos | map(select(.head != "") | {(.repo): .head}) | add // {}),
  repositories: ($repos | map({(.repo): {uid, gid, metadata, entries}}) | add)
}
