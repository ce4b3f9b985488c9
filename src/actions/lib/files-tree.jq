# files_tree: the string rb_files_tree wrote (read with --rawfile) as an object from each entry's name
# in a backup folder ("files" for the listed folder itself, "files/PATH" below it) to its type (find's
# %y: f, d, l, …), bytes, uid, gid and mode ("0640"). A program using it starts with this file.
def files_tree:
  split("\u0000")[:-1]
  | map(split(" ") as $w | ($w[5:] | join(" ")) as $path
      | {key: (if $path == "" then "files" else "files/" + $path end),
         value: {type: $w[0], bytes: ($w[1] | tonumber), uid: ($w[2] | tonumber), gid: ($w[3] | tonumber), mode: $w[4]}})
  | from_entries;
