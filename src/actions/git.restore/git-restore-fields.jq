# git.restore: from a git backup's manifest, one jq start (about 15 ms each) for both lists the run
# needs: "S SHA256  NAME" per bundle (a SHA256SUMS line) and "R REPO<TAB>HEAD" per repository.
if .kind != "git" then error("not a git backup (kind \(.kind))") else
  (.files[] | "S \(.sha256)  \(.name)"), (.heads as $heads | .refs | keys[] | "R \(.)\t\($heads[.] // "")") end
