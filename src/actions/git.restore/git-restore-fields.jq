# git.restore: from a git backup's manifest, one jq start (about 15 ms each) for every list the run
# needs: "S SHA256  NAME" per file (a SHA256SUMS line), "R REPO<TAB>HEAD" per repository and
# "O REPO<TAB>UID<TAB>GID<TAB>TAR" per repository whose owner and metadata tar were recorded (none in
# backups made before git.backup recorded them).
if .kind != "git" then error("not a git backup (kind \(.kind))") else
  (.files[] | "S \(.sha256)  \(.name)"),
  (.heads as $heads | .refs | keys[] | "R \(.)\t\($heads[.] // "")"),
  ((.repositories // {}) | to_entries[] | "O \(.key)\t\(.value.uid)\t\(.value.gid)\t\(.value.metadata)") end
