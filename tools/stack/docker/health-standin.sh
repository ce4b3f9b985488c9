#!/bin/bash
# An application stand-in of the test stack: answers HTTP on 127.0.0.1:HEALTH_PORT at
# /cgi-bin/health with 200 only while its database has its tables, each with at least one row, and
# its volume holds its files - so a recovery that forgets data fails the final check, as the real
# application would. Configured by the environment its compose service sets:
#   HEALTH_PORT, PGHOST (the database's socket folder, shared as a volume), PGUSER, PGDATABASE,
#   HEALTH_TABLES (schema.table …), HEALTH_DIR, HEALTH_MIN_FILES, HEALTH_FILES (paths under HEALTH_DIR),
#   HEALTH_REPOSITORIES (a folder under HEALTH_DIR of bare repositories, not counted as files: git
#   stores objects its own way) and HEALTH_MIN_REPOSITORIES.
# Usage: health-standin (serve) | health-standin check (one check; exit 0 when healthy)
set -euo pipefail
export PATH="/usr/lib/postgresql/15/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

check() {
  local table rows found
  for table in ${HEALTH_TABLES:-}; do
    rows=$(psql -X -At -v ON_ERROR_STOP=1 -c "SELECT count(*) FROM $table" 2>&1) || { echo "table $table: $rows"; return 1; }
    [ "$rows" -gt 0 ] || { echo "table $table is empty"; return 1; }
  done
  for file in ${HEALTH_FILES:-}; do
    [ -f "$HEALTH_DIR/$file" ] || { echo "file $file is missing"; return 1; }
  done
  if [ -n "${HEALTH_REPOSITORIES:-}" ]; then
    found=$(find "$HEALTH_DIR/$HEALTH_REPOSITORIES" -name '*.git' -type d -prune -exec test -f '{}/HEAD' ';' -print | wc -l)
    [ "$found" -ge "${HEALTH_MIN_REPOSITORIES:-1}" ] || { echo "$found repositories, expected at least $HEALTH_MIN_REPOSITORIES"; return 1; }
  fi
  if [ -n "${HEALTH_MIN_FILES:-}" ]; then
    found=$(find "$HEALTH_DIR" ${HEALTH_REPOSITORIES:+-path "$HEALTH_DIR/$HEALTH_REPOSITORIES" -prune -o} -type f -print | wc -l)
    [ "$found" -ge "$HEALTH_MIN_FILES" ] || { echo "$found files under $HEALTH_DIR, expected at least $HEALTH_MIN_FILES"; return 1; }
  fi
  echo "ok"
}

case "${1:-serve}" in
  check) check ;;
  cgi)
    if reason=$(check 2>&1); then
      printf 'HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n%s\n' "$reason"
    else
      printf 'HTTP/1.0 503 Service Unavailable\r\nContent-Type: text/plain\r\n\r\n%s\n' "$reason"
    fi
    ;;
  serve)
    mkdir -p /srv/health/cgi-bin
    printf '#!/bin/sh\nexec /usr/local/bin/health-standin cgi\n' > /srv/health/cgi-bin/health
    chmod 755 /srv/health/cgi-bin/health
    echo "serving http://127.0.0.1:$HEALTH_PORT/cgi-bin/health"
    exec busybox httpd -f -p "127.0.0.1:$HEALTH_PORT" -h /srv/health
    ;;
esac
