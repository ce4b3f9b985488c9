# What secrets.backup and secrets.restore read from an archive and a secrets manifest (lib/secrets.sh
# says how they are made). A program using it starts with this file.
#
# path_problem: why a path (a listed file, a manifest entry, an archive member) cannot be a secret
# file's path, or null: it must stay inside its folder (relative; no '..', '.' or empty part), be
# printable (no control character, no backslash, which tar and sha256sum escape) and not be the
# archive's own checksum list.
def path_problem:
  if type != "string" or . == "" then "not a path"
  elif startswith("/") then "an absolute path"
  elif split("/") | any(. == "..") then "contains '..'"
  elif split("/") | any(. == "" or . == ".") then "has an empty or '.' part"
  elif test("[[:cntrl:]\\\\]") then "holds a control character or a backslash"
  elif . == "SHA256SUMS" then "is SHA256SUMS, the name of the archive's own checksum list"
  else null end;

# tar_mode: `tar -tv`'s permission string ("-rwsr-x---") as four octal digits ("4750").
def tar_mode:
  split("") as $c
  | def bits($i): (if $c[$i] == "r" then 4 else 0 end) + (if $c[$i + 1] == "w" then 2 else 0 end) + (if $c[$i + 2] | IN("x", "s", "t") then 1 else 0 end);
    ((if $c[3] | IN("s", "S") then 4 else 0 end) + (if $c[6] | IN("s", "S") then 2 else 0 end) + (if $c[9] | IN("t", "T") then 1 else 0 end)) as $special
  | "\($special)\(bits(1))\(bits(4))\(bits(7))";

# members($verbose; $names): an archive's members, in order, from its two listings (as rb_secrets_list
# makes them: `tar -tv --numeric-owner` and `tar -t`, names as stored, one member a line): path, type
# (file, symbolic link, hard link, folder, special file), mode, uid, gid, bytes. The name comes from
# the plain listing, the rest from the first three fields of the verbose one.
def members($verbose; $names):
  ($verbose | split("\n") | map(select(. != ""))) as $v
  | ($names | split("\n") | map(select(. != ""))) as $n
  | if ($v | length) != ($n | length) then error("the archive's two tar listings differ in length") else . end
  | [range(0; $n | length) as $i
      | ($v[$i] | [splits(" +")]) as $f
      | {path: $n[$i],
         type: ({"-": "file", l: "symbolic link", h: "hard link", d: "folder"}[$f[0][0:1]] // "special file"),
         mode: ($f[0] | tar_mode),
         uid: ($f[1] | split("/")[0] | tonumber? // null),
         gid: ($f[1] | split("/")[1] | tonumber? // null),
         bytes: ($f[2] | tonumber? // null)}];

# archive_problems($members): how a secrets manifest (the input) and its archive's members disagree,
# or what the archive holds that a restore must not write, one message each: a manifest entry that
# is no safe path or is listed twice; a member that is no safe path, not a regular file, stored twice
# or not among the entries; an entry the archive lacks or whose mode, owner or size differ from the
# member's; no regular SHA256SUMS member. Empty when the archive holds exactly the entries.
def archive_problems($members):
  (.entries // []) as $entries
  | ($entries | map(.path)) as $paths
  | ($entries | map({key: (.path | tostring), value: .}) | from_entries) as $recorded
  | ($members | map({key: .path, value: .}) | from_entries) as $stored
  | [ (if ($entries | length) == 0 then "the manifest lists no entries" else empty end),
      ($paths[] | . as $p | path_problem // empty | "manifest entry \($p | tojson): \(.)"),
      ($paths | group_by(.)[] | select(length > 1) | "manifest entry \(.[0] | tojson): listed twice"),
      ($members | map(.path) | group_by(.)[] | select(length > 1) | "archive member \(.[0] | tojson): stored twice"),
      ($members[] | .path as $p
        | if $p == "SHA256SUMS" then (if .type != "file" then "archive member SHA256SUMS: a \(.type), not a regular file" else empty end)
          elif ($p | path_problem) != null then "archive member \($p | tojson): \($p | path_problem)"
          elif .type != "file" then "archive member \($p): a \(.type), not a regular file"
          elif $recorded[$p] == null then "archive member \($p): not among the manifest's entries"
          else
            $recorded[$p] as $e
            | (if .mode != $e.mode then "\($p): mode \(.mode) in the archive, \($e.mode) in the manifest" else empty end),
              (if [.uid, .gid] != [$e.uid, $e.gid] then "\($p): owner \(.uid):\(.gid) in the archive, \($e.uid):\($e.gid) in the manifest" else empty end),
              (if .bytes != $e.bytes then "\($p): \(.bytes) bytes in the archive, \($e.bytes) in the manifest" else empty end)
          end),
      (if $stored.SHA256SUMS == null then "the archive has no SHA256SUMS member" else empty end),
      ($paths[] | select(type == "string" and $stored[.] == null) | "manifest entry \(tojson): not in the archive") ];

# sums_problems($sums): how the archive's SHA256SUMS (`sha256sum` lines "HASH  PATH") and the
# manifest's entries (the input) disagree: a line that is not a checksum, a path listed that is no
# entry, an entry not listed. Empty when every entry, and nothing else, has its checksum there.
def sums_problems($sums):
  ($sums | split("\n") | map(select(. != ""))) as $lines
  | ([.entries[].path] | sort) as $paths
  | ($lines | map(select(test("^[0-9a-f]{64} [ *]")) | .[66:]) | sort) as $listed
  | [ ($lines[] | select(test("^[0-9a-f]{64} [ *]") | not) | "SHA256SUMS: \(tojson) is not a checksum line"),
      (($listed - $paths)[] | "SHA256SUMS lists \(tojson), which is not among the manifest's entries"),
      (($paths - $listed)[] | "SHA256SUMS has no checksum of \(.)") ];
