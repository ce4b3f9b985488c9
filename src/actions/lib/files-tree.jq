# files_tree: the string rb_files_tree wrote (read with --rawfile) as an object from each entry's name
# in a backup folder ("files" for the listed folder itself, "files/PATH" below it) to its type (find's
# %y: f, d, l, …), bytes, uid, gid and mode ("0640"), and for a symbolic link (type "l") its target:
# the field after a link's is that target. A program using it starts with this file.
def files_tree:
  reduce (split("\u0000")[:-1][]) as $field ({entries: {}, link: null};
    if .link != null then .entries[.link].target = $field | .link = null
    else
      ($field | split(" ")) as $w
      | ($w[5:] | join(" ")) as $path
      | (if $path == "" then "files" else "files/" + $path end) as $key
      | .entries[$key] = {type: $w[0], bytes: ($w[1] | tonumber), uid: ($w[2] | tonumber), gid: ($w[3] | tonumber), mode: $w[4]}
      | if $w[0] == "l" then .link = $key else . end
    end)
  | .entries;
