# files.restore run: how the staging folder differs from a files manifest (the input) before anything
# is moved into the target, after lib/files-tree.jq. $tree: rb_files_tree of $STAGE/files; $sums:
# `sha256sum --zero` of the manifest's files that are regular files there; $from: the backup, to
# name paths. Every file must be a regular file with the manifest's size and sha256, every symbolic
# link a link with its recorded target. Prints one message per difference.
($tree | files_tree) as $staged
| ($sums | split("\u0000")[:-1] | map({key: ("files/" + .[66:]), value: .[:64]}) | from_entries) as $sha256
| .files[]
| $staged[.name] as $found
| "\($from)/\(.name): " + (
    if .type == "symlink" then
      if $found == null then "missing" elif $found.type != "l" then "not a symbolic link"
      elif $found.target != .target then "target \($found.target), manifest \(.target)" else empty end
    elif $found == null then "missing from the store"
    elif $found.type != "f" then "not a regular file"
    elif $found.bytes != .bytes then "\($found.bytes) bytes, manifest \(.bytes)"
    elif $sha256[.name] != .sha256 then "sha256 \($sha256[.name]), manifest \(.sha256)"
    else empty end)
