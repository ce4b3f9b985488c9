# shellcheck shell=bash
# What a file is besides its bytes (owner, group, mode; folders, empty ones too; where a symbolic
# link points) is kept by no rclone remote, so files.backup records it in the manifest from a
# listing of the source and files.restore compares the restored tree with the same listing
# (lib/files-tree.jq reads it).

# rb_files_tree FOLDER FILE: writes into FILE every entry under FOLDER, FOLDER itself too, with its
# type, size, uid, gid and mode, NUL-terminated (names may hold any character but NUL); a symbolic
# link is followed by one more NUL-terminated field, its target. One `find` however many files; no
# link is followed (its own owner is listed), except FOLDER itself (-H) when it is one, as rclone does.
rb_files_tree() {
  find -H "$1" \( -type l -printf '%y %s %U %G %04m %P\0%l\0' \) -o -printf '%y %s %U %G %04m %P\0' > "$2"
}
