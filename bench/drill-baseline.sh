#!/usr/bin/env bash
# The full recovery written by hand, the way an operator would without runbook: the baseline that
# bench/drill.mjs times `runbook exec runbooks/recover-full.yaml` against. Same tools, same order,
# same data path (rclone, sha256sum, zstd -dc | psql --single-transaction, git clone of bundles,
# rclone copy, nsupdate), against the local stack whose variables (RUNBOOK_STACK_*, RCLONE_CONFIG_*)
# are in the environment (`stack.writeEnvFile`), AWS_CA_BUNDLE unset.
#
# What it does, per service: find the newest complete backup (a folder with manifest.json), download
# it, check every file's sha256 against the manifest, then restore (databases: create the database,
# stream the dump into it in one transaction; git: mirror-clone each bundle, set HEAD; files: copy the
# tree and check every file's sha256 in place); then point the DNS records and check the answer.
#
# What it does NOT do that the engine does (so the engine has more work, not less):
#   - no exact count(*) of every table against the manifest (the engine counts twice: in the scratch
#     database before the rename, and again in the step's verification);
#   - restores straight into the target database: no scratch database, no atomic rename, no refusal
#     of a non-empty database;
#   - no `git fsck --full` and no check that every ref equals the manifest's;
#   - no `rclone check` of the restored files against the remote (the sha256 check is kept);
#   - no disk-space preflight, no journal (fsynced records), no log, no lock, no secret masking,
#     no retries, no resume after a crash.
set -euo pipefail

remote=${BACKUP_REMOTE:-backup:backups}
host=127.0.0.1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

newest() { # LOCATION → id of the newest folder that has a manifest.json
  rclone lsf -R --files-only --max-depth 2 --include '/*/manifest.json' "$1" |
    sed -n 's|^\([0-9]\{4\}-[0-9][0-9]-[0-9][0-9]T[0-9]\{6\}Z\)/manifest.json$|\1|p' | sort | tail -n 1
}

fetch() { # LOCATION DIR → downloads the newest complete backup into DIR and checks every sha256
  local id
  id=$(newest "$1")
  [ -n "$id" ] || { echo "no complete backup under $1" >&2; exit 1; }
  rclone copy --fast-list "$1/$id" "$2"
  (cd "$2" && jq -r '.files[] | "\(.sha256)  \(.name)"' manifest.json | sha256sum --check --quiet --strict)
}

restore_db() { # PORT DATABASE LOCATION
  local port=$1 db=$2 dir="$work/db-$2"
  fetch "$3" "$dir"
  if [ "$(psql -X -At -h "$host" -p "$port" -U postgres -d postgres -c "SELECT count(*) FROM pg_database WHERE datname = '$db'")" = 0 ]; then
    psql -X -q -h "$host" -p "$port" -U postgres -d postgres -c "CREATE DATABASE \"$db\" TEMPLATE template0"
  fi
  # The backup's roles first (a fresh server lacks them); "already exists" errors are expected.
  if [ -f "$dir/roles.sql" ]; then
    psql -X -q -h "$host" -p "$port" -U postgres -d postgres -f "$dir/roles.sql" > /dev/null 2>&1 || true
  fi
  zstd -dc "$dir/$(jq -r '.files[0].name' "$dir/manifest.json")" |
    psql -X -q -v ON_ERROR_STOP=1 --single-transaction -h "$host" -p "$port" -U postgres -d "$db" > /dev/null
  rm -rf "$dir"
  echo "restored $db"
}

restore_db "$RUNBOOK_STACK_SUPABASE_PORT" "$RUNBOOK_STACK_SUPABASE_DATABASE" "$remote/postgres/supabase"
restore_db "$RUNBOOK_STACK_TWENTY_PORT" "$RUNBOOK_STACK_TWENTY_DATABASE" "$remote/postgres/twenty"
restore_db "$RUNBOOK_STACK_GITEA_PORT" "$RUNBOOK_STACK_GITEA_DATABASE" "$remote/postgres/gitea-db"
restore_db "$RUNBOOK_STACK_DAM_PORT" "$RUNBOOK_STACK_DAM_DATABASE" "$remote/postgres/dam-db"

# Gitea's bare repositories from their bundles.
fetch "$remote/git/gitea" "$work/git"
jq -r '.refs | keys[]' "$work/git/manifest.json" | while IFS= read -r repo; do
  to="$RUNBOOK_STACK_REPOSITORIES/$repo"
  mkdir -p "$(dirname "$to")"
  git clone --quiet --mirror "$work/git/bundles/$repo.bundle" "$to"
  git -C "$to" config --remove-section remote.origin
  head=$(jq -r --arg repo "$repo" '.heads[$repo] // empty' "$work/git/manifest.json")
  if [ -n "$head" ]; then git -C "$to" symbolic-ref HEAD "$head"; fi
done
echo "restored repositories"

# Storage buckets and DAM originals: copy, then every file's sha256 against the manifest.
restore_files() { # LOCATION TO
  local id
  id=$(newest "$1")
  rclone cat "$1/$id/manifest.json" > "$work/files.json"
  mkdir -p "$2"
  rclone copy --fast-list "$1/$id/files" "$2"
  jq -r '.files[] | "\(.sha256)  \(.name | ltrimstr("files/"))"' "$work/files.json" > "$work/SHA256SUMS"
  (cd "$2" && sha256sum --check --quiet --strict "$work/SHA256SUMS")
  echo "restored $2"
}
restore_files "$remote/files/storage" "$RUNBOOK_STACK_STORAGE"
restore_files "$remote/files/dam" "$RUNBOOK_STACK_DAM"

# DNS: point the records at this server, then check the authoritative answer.
ip=${SERVER_IP:-198.51.100.7}
zone=$RUNBOOK_STACK_DNS_ZONE
{
  echo "server $RUNBOOK_STACK_DNS_SERVER $RUNBOOK_STACK_DNS_PORT"
  echo "zone $zone"
  for name in crm git dam; do
    echo "update delete $name.$zone. A"
    echo "update add $name.$zone. 300 A $ip"
  done
  echo send
} | nsupdate -k "$RUNBOOK_STACK_DNS_KEY_FILE"
for name in crm git dam; do
  [ "$(dig @"$RUNBOOK_STACK_DNS_SERVER" -p "$RUNBOOK_STACK_DNS_PORT" +short +norecurse "$name.$zone" A)" = "$ip" ]
done
echo "dns points at $ip"
