# shellcheck shell=bash
# http.wait run: polls until the check of the verification passes, or gives up after the timeout.
# Inputs: URL STATUS BODY (an extended regular expression, or empty) TIMEOUT_SECONDS INTERVAL_SECONDS.
rb_http_wait_run() {
  local deadline=$((SECONDS + TIMEOUT_SECONDS))
  until rb_http_wait_check; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "gave up: $URL was not healthy within ${TIMEOUT_SECONDS}s" >&2
      exit 1
    fi
    sleep "$INTERVAL_SECONDS"
  done
}
