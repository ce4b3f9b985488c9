# files.backup: the listing a manifest is made of, after lib/files-tree.jq. Input: `rclone lsjson -R
# --hash` of the source (filters applied, so excluded paths are left out); $tree: rb_files_tree of the
# source, for what rclone does not keep. Every file with bytes, sha256, uid, gid, mode; every folder
# (the source itself as "files", empty ones too) with uid, gid, mode; both sorted by name. A path
# rclone lists and find did not (created between the two) gets null ones: run.sh lists again.
($tree | files_tree) as $meta
| def kept($name): ($meta[$name] // {}) | {uid, gid, mode};
{
  files: [.[] | select(.IsDir | not) | ("files/" + .Path) as $name | {name: $name, bytes: .Size, sha256: .Hashes.sha256} + kept($name)] | sort_by(.name),
  dirs: ["files", (.[] | select(.IsDir) | "files/" + .Path)] | map({name: .} + kept(.)) | sort_by(.name)
}
