# postgres: the differences between the manifest's `database` object (the input) and $got, the
# same properties read from a database (pg-database-properties.sql), one line each; nothing when
# they agree or the manifest is older than these properties. Grantors are not compared: a GRANT
# run by a superuser records the owner as its grantor.
def acl: if . == null then null else map("\(.grantee // "PUBLIC") \(.privilege)\(if .grantable then " WITH GRANT OPTION" else "" end)") | sort end;
def settings: map(.role as $role | .settings[] | "\(if $role == null then "database" else "role \($role)" end): \(.)") | sort;
.database as $want
| select($want != null)
| (select($want.owner != $got.owner) | "owner: expected \($want.owner), got \($got.owner)"),
  (($want.acl | acl) as $a | ($got.acl | acl) as $b | select($a != $b) | "ACL: expected \($a // "the default"), got \($b // "the default")"),
  (($want.settings | settings) as $a | ($got.settings | settings)  as $b
    | ($a - $b | .[] | "setting \(.): missing"), ($b - $a | .[] | "setting \(.): not in the manifest")),
  (select($want.comment != $got.comment) | "comment: expected \($want.comment | tojson), got \($got.comment | tojson)"),
  ($want.extensions[] | . as $extension | ($got.extensions | map(select(.name == $extension.name))[0]) as $found
    | if $found == null then "extension \(.name): missing"
      elif $found.owner != .owner then "extension \(.name): owner expected \(.owner), got \($found.owner)"
      else empty end)
