# files.restore verify: how the tree differs from a files manifest (the input), after
# lib/files-tree.jq. $tree: rb_files_tree of the tree; $sums: `sha256sum --zero` of the manifest's
# files that are regular files there, by path relative to the tree; $to: the tree, to name paths.
# Every file must exist with the manifest's size and sha256, and its uid, gid and mode when the
# manifest records them (older manifests do not); every symbolic link (type "symlink") must be a
# link with the manifest's target, uid and gid (never a mode); every recorded folder must have its uid, gid and mode.
# Prints an array of messages, one per difference, files and links first, each in name order.
($tree | files_tree) as $actual
| ($sums | split("\u0000")[:-1] | map({key: ("files/" + .[66:]), value: .[:64]}) | from_entries) as $sha256
| def shown: if . == "files" then $to else $to + "/" + ltrimstr("files/") end;
  def kept($found):
    (if .uid != null and ([.uid, .gid] != [$found.uid, $found.gid]) then "owner \($found.uid):\($found.gid), backup \(.uid):\(.gid)" else empty end),
    (if .mode != null and .mode != $found.mode then "mode \($found.mode), backup \(.mode)" else empty end);
  def file_differences:
    $actual[.name] as $found
    | if $found == null then "missing"
      elif $found.type != "f" then "not a regular file"
      else
        (if $found.bytes != .bytes then "size \($found.bytes), backup \(.bytes)"
         elif $sha256[.name] != .sha256 then "sha256 differs from the backup's"
         else empty end),
        kept($found)
      end;
  def link_differences:
    $actual[.name] as $found
    | if $found == null then "missing"
      elif $found.type != "l" then "not a symbolic link"
      else
        (if $found.target != .target then "target \($found.target), backup \(.target)" else empty end),
        (del(.mode) | kept($found))
      end;
  def dir_differences:
    $actual[.name] as $found
    | if $found == null then "missing" elif $found.type != "d" then "not a folder" else kept($found) end;
[ (.files[] | "\(.name | shown): \(if .type == "symlink" then link_differences else file_differences end)"),
  ((.dirs // [])[] | "\(.name | shown): \(dir_differences)") ]
