#!/usr/bin/env bash
# Installs what a fresh Debian machine lacks for the tests and the demo: system packages
# (PostgreSQL 15, rclone, BIND + nsupdate/dig, shellcheck, zstd, hyperfine, git, jq, curl, age for
# the secrets actions, Docker's engine, Compose v1 and debootstrap for the production-shaped stack) and the node
# modules.
# As root it runs apt-get itself; otherwise it prints the exact command to run.
set -euo pipefail
cd "$(dirname "$0")/.."

# One "command package" pair a line, so a command can never be mapped to another's package.
requirements='/usr/lib/postgresql/15/bin/initdb postgresql-15
rclone rclone
named bind9
nsupdate bind9-dnsutils
dig bind9-dnsutils
shellcheck shellcheck
zstd zstd
hyperfine hyperfine
git git
jq jq
curl curl
age age
dockerd docker.io
docker-compose docker-compose
debootstrap debootstrap'

missing=()
while read -r binary package; do
  command -v "$binary" >/dev/null 2>&1 || [[ " ${missing[*]} " == *" $package "* ]] || missing+=("$package")
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
if [[ ! -d node_modules ]] || [[ package-lock.json -nt node_modules/.package-lock.json ]]; then
  npm ci --no-audit --no-fund
  npm run build --silent
fi
