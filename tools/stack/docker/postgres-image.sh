#!/usr/bin/env bash
# Builds the test stack's PostgreSQL image from Debian packages alone (no registry): a minbase
# bookworm root filesystem with postgresql-15, the postgres user at uid/gid 999 as in the official
# postgres image, busybox (whose httpd serves the application stand-ins' health checks,
# health-standin.sh), and entrypoint.sh (the official image's POSTGRES_USER/POSTGRES_DB/initdb.d
# behaviour). Writes the root filesystem as a tar to OUT; `docker import` makes it an image.
# Usage: postgres-image.sh OUT.tar
set -euo pipefail
out=$1
here="$(cd "$(dirname "$0")" && pwd)"
root="$(mktemp -d "${TMPDIR:-/tmp}/runbook-image.XXXXXX")"
# mktemp makes it 0700: it becomes the image's /, which every user must be able to enter.
chmod 755 "$root"
cleanup() {
  umount "$root/proc" 2> /dev/null || true
  rm -rf "$root"
}
trap cleanup EXIT

debootstrap --variant=minbase bookworm "$root" "${DEBIAN_MIRROR:-http://deb.debian.org/debian}" > "$root.log" 2>&1 \
  || { tail -n 30 "$root.log" >&2; exit 1; }
rm -f "$root.log"
# No service starts inside the build, and Debian's packaging creates no cluster: the entrypoint does.
printf '#!/bin/sh\nexit 101\n' > "$root/usr/sbin/policy-rc.d"
chmod 755 "$root/usr/sbin/policy-rc.d"
mkdir -p "$root/etc/postgresql-common"
echo 'create_main_cluster = false' > "$root/etc/postgresql-common/createcluster.conf"
mount -t proc proc "$root/proc"
chroot "$root" /bin/sh -euc '
  groupadd --system --gid 999 postgres
  useradd --system --uid 999 --gid 999 --home-dir /var/lib/postgresql --shell /bin/bash postgres
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql-15 busybox > /dev/null
  apt-get clean
  rm -rf /var/lib/apt/lists/*
'
umount "$root/proc"
rm -f "$root/usr/sbin/policy-rc.d"
install -m 755 "$here/entrypoint.sh" "$root/usr/local/bin/docker-entrypoint.sh"
install -m 755 "$here/health-standin.sh" "$root/usr/local/bin/health-standin"
mkdir -p "$root/docker-entrypoint-initdb.d"
tar -C "$root" --numeric-owner -cf "$out.partial" .
mv "$out.partial" "$out"
