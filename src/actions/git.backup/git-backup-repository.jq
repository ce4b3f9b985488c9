# git.backup: one repository's line of repositories.jsonl, from --arg repo head, --argjson refs uid
# gid and --rawfile entries (rb_git_metadata_entries' lines "PATH<TAB>TYPE<TAB>MODE<TAB>DATA").
{
  $repo, $head, $refs, $uid, $gid,
  metadata: "metadata/\($repo).tar",
  entries: [$entries | split("\n")[] | select(. != "") | split("\t")
    | {path: .[0], type: .[1], mode: .[2]}
      + (if .[1] == "file" then {sha256: .[3]} elif .[1] == "symlink" then {target: .[3]} else {} end)]
}
