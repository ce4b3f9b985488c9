# recorded: the files, symbolic links and folders a files manifest gives an owner and mode (manifests
# older than these fields give none), as path in the tree ("." for the tree itself), dir, owner
# ("uid:gid") and chmod's mode: a fifth, leading 0 makes GNU chmod also clear a folder's set-id bits,
# which a numeric mode of four digits leaves as they are. A symbolic link has an owner (given with
# `chown -h`) and never a mode: chmod follows links, so a link's mode would land on its target, which
# may be anything on the host (`/etc`). A name that could leave the tree (`..`, an empty part) is an
# error: the restore runs as root. A program using it starts with this file.
def recorded:
  [(.files[] | {dir: false} + .), ((.dirs // [])[] | {dir: true} + .)]
  | map(select(.uid != null)
      | if .name | split("/") | .[0] != "files" or any(. == ".." or . == "" or . == ".") then error("\(.name): not a path inside the backup's files/") else . end
      | {path: (.name | if . == "files" then "." else ltrimstr("files/") end), dir, owner: "\(.uid):\(.gid)",
         mode: (if .type == "symlink" or .mode == null then null else "0" + .mode end)});
