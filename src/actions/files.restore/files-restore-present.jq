# files.restore verify: the manifest's files (the input) that are regular files in the tree, after
# lib/files-tree.jq, as paths relative to the tree, NUL-terminated for `xargs -0 sha256sum`; its
# symbolic links are compared by target, not hashed. $tree: rb_files_tree of the tree.
($tree | files_tree) as $actual
| .files[] | select(.type != "symlink" and $actual[.name].type == "f") | (.name | ltrimstr("files/")) + "\u0000"
