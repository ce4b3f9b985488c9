# files.backup: the listing a manifest is made of, after lib/files-tree.jq. Input: `rclone lsjson -R
# --links --hash` of the source (filters applied, so excluded paths are left out); $tree: rb_files_tree
# of the source, for what rclone does not keep. Every file with bytes, sha256, uid, gid, mode; every
# folder (the source itself as "files", empty ones too) with uid, gid, mode; both sorted by name. A
# path rclone lists and find did not (created between the two) gets null ones: run.sh lists again.
#
# Symbolic links: with --links rclone lists a link NAME as a file NAME.rclonelink whose content (size,
# hash) is the link's target text, and stores it so (a link again in a local destination). Such an
# entry whose NAME find saw as a link is a files entry {name: NAME, type: "symlink", target, bytes,
# sha256, uid, gid}: the link's own owner, and no mode (chmod follows links; a link's mode means
# nothing on Linux). A source entry that really is named *.rclonelink cannot be told from a link by
# rclone (it reads it as the link NAME, or lists it twice beside one): it goes to `clashes`, and
# run.sh refuses the backup.
($tree | files_tree) as $meta
| def kept($name): ($meta[$name] // {}) | {uid, gid, mode};
  def link_name: select(endswith(".rclonelink") and $meta[.] == null and $meta[.[:-11]].type == "l") | .[:-11];
  [.[] | select(.IsDir | not) | . + {stored: ("files/" + .Path)}] as $stored
| {
    files: [$stored[]
      | {bytes: .Size, sha256: .Hashes.sha256} as $content
      | ([.stored | link_name] | first) as $link
      | if $link != null then {name: $link, type: "symlink", target: $meta[$link].target} + $content + {uid: $meta[$link].uid, gid: $meta[$link].gid}
        else {name: .stored} + $content + kept(.stored) end] | sort_by(.name),
    dirs: ["files", (.[] | select(.IsDir) | "files/" + .Path)] | map({name: .} + kept(.)) | sort_by(.name),
    clashes: [$stored[].stored | select(endswith(".rclonelink") and $meta[.] != null and $meta[.].type != "l")] | unique
  }
