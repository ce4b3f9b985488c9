# git.restore verify: from a git backup's manifest, "R<TAB>REPO" per repository and
# "E<TAB>REPO<TAB>OID REF" per ref it recorded (HEAD too, where it recorded one).
.refs | to_entries[] | .key as $repo | "R\t\($repo)", (.value | to_entries[] | "E\t\($repo)\t\(.value) \(.key)")
