# files.restore run: the places where the tree (before the restore) has a symbolic link and the
# manifest (the input) a folder or a regular file, after lib/files-tree.jq. rclone writes through such
# a link (a file copied over a link to /etc/passwd replaces /etc/passwd), and chown and chmod follow
# it for the entries below it, so the restore changes nothing there and fails. A link where the backup
# has a link is replaced by the backup's. The folders are the manifest's dirs and every folder above a
# recorded entry (older manifests have no dirs), the tree itself (FOLDER, followed as rclone does)
# left out. $tree: rb_files_tree of the tree; $to: the tree, to name paths. Prints one message each.
($tree | files_tree) as $actual
| def shown: $to + "/" + ltrimstr("files/");
  ([(.dirs // [])[].name, (.files[].name | split("/") | range(2; length) as $n | .[:$n] | join("/"))] - ["files"] | unique) as $folders
| ($folders[] | select($actual[.].type == "l") | "\(shown): a symbolic link where the backup has a folder"),
  (.files[] | select(.type != "symlink") | .name | select($actual[.].type == "l") | "\(shown): a symbolic link where the backup has a file")
