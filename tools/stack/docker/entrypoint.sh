#!/bin/bash
# The test stack's database entrypoint, shaped like the official postgres image's: on an empty
# PGDATA, initdb with POSTGRES_USER as the bootstrap superuser, POSTGRES_DB created and owned by it,
# then /docker-entrypoint-initdb.d/*.sql and *.sh run against a temporary server on the socket only
# (so, as in the real image, a client can reach the socket before the database is ready); then the
# server proper. Listens on the container's own loopback only; POSTGRES_HOST_AUTH_METHOD (trust for a
# throw-away server) sets TCP authentication, as in the official image.
set -euo pipefail
export PATH="/usr/lib/postgresql/15/bin:$PATH"
export PGDATA="${PGDATA:-/var/lib/postgresql/data}"
user="${POSTGRES_USER:-postgres}"
database="${POSTGRES_DB:-$user}"

if [ "$(id -u)" = 0 ]; then
  mkdir -p "$PGDATA" /var/run/postgresql
  chown postgres:postgres "$PGDATA" /var/run/postgresql
  chmod 700 "$PGDATA"
  exec setpriv --reuid=postgres --regid=postgres --init-groups "$0" "$@"
fi

if [ ! -s "$PGDATA/PG_VERSION" ]; then
  password_file="$(mktemp)"
  printf '%s\n' "${POSTGRES_PASSWORD:-}" > "$password_file"
  initdb -D "$PGDATA" -U "$user" --pwfile="$password_file" --auth-local=trust --auth-host="${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}" -E UTF8 --locale=C.UTF-8 > /dev/null
  rm -f "$password_file"
  echo "listen_addresses = 'localhost'" >> "$PGDATA/postgresql.auto.conf"
  pg_ctl -D "$PGDATA" -o "-c listen_addresses=''" -w start > /dev/null
  if [ "$database" != postgres ]; then
    psql -X -v ON_ERROR_STOP=1 -U "$user" -d postgres -q -v db="$database" <<< 'CREATE DATABASE :"db";'
  fi
  for file in /docker-entrypoint-initdb.d/*; do
    case "$file" in
      *.sql) psql -X -v ON_ERROR_STOP=1 -U "$user" -d "$database" -q -f "$file" ;;
      *.sh) POSTGRES_USER="$user" POSTGRES_DB="$database" bash "$file" ;;
    esac
  done
  pg_ctl -D "$PGDATA" -m fast -w stop > /dev/null
  echo "database system initialised"
fi
exec "$@"
