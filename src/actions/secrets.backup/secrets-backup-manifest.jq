# secrets.backup: the manifest's own fields, from --arg source, --arg sha256 and --argjson bytes (of
# secrets.tar.age), --slurpfile members (members() of lib/secrets-archive.jq: the archive's own
# listing, before SHA256SUMS was appended) and --argjson recipients. Entries carry no hash.
{
  source: {path: $source},
  files: [{name: "secrets.tar.age", bytes: $bytes, sha256: $sha256}],
  entries: ($members[0] | map({path, mode, uid, gid, bytes}) | sort_by(.path)),
  recipients: $recipients
}
