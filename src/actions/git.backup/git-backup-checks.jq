# git.backup verify: from a git backup's manifest, "R<TAB>REPO<TAB>REF_COUNT" per repository and
# "M<TAB>REPO<TAB>PATH<TAB>TYPE<TAB>MODE<TAB>DATA" per metadata entry, as rb_git_metadata_entries
# prints them.
(.refs | to_entries[] | "R\t\(.key)\t\(.value | length)"),
((.repositories // {}) | to_entries[] | .key as $repo | .value.entries[]
  | "M\t\($repo)\t\(.path)\t\(.type)\t\(.mode)\t\(.sha256 // .target // "")")
