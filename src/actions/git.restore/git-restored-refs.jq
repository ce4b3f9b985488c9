# git.restore verify: from a git backup's manifest, "R<TAB>REPO" per repository,
# "E<TAB>REPO<TAB>OID REF" per ref it recorded (HEAD too, where it recorded one), and where it
# recorded owners and metadata (backups since git.backup records them) "O<TAB>REPO<TAB>UID<TAB>GID"
# per repository and "M<TAB>REPO<TAB>PATH<TAB>TYPE<TAB>MODE<TAB>DATA" per entry, as
# rb_git_metadata_entries prints them.
(.refs | to_entries[] | .key as $repo | "R\t\($repo)", (.value | to_entries[] | "E\t\($repo)\t\(.value) \(.key)")),
((.repositories // {}) | to_entries[] | .key as $repo
  | "O\t\($repo)\t\(.value.uid)\t\(.value.gid)",
    (.value.entries[] | "M\t\($repo)\t\(.path)\t\(.type)\t\(.mode)\t\(.sha256 // .target // "")"))
