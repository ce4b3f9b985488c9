# shellcheck shell=bash
# http.wait verify: one request; the wait ends on this same check, so what ended it is what is verified.
# Inputs: URL STATUS BODY (an extended regular expression, or empty).
rb_http_wait_verify() {
  rb_http_wait_check
}

# Explicit returns: the run calls it as a loop condition, where bash ignores set -e.
rb_http_wait_check() {
  local response code
  # curl's own message (refused, timed out) goes to stderr as it is.
  response=$(curl -sS --max-time 10 --write-out '\n%{http_code}' "$URL") || return 1
  code=${response##*$'\n'}
  if [ "$code" != "$STATUS" ]; then
    echo "$URL answered HTTP $code, expected $STATUS" >&2
    return 1
  fi
  if [ -n "$BODY" ] && ! grep -Eq -- "$BODY" <<< "${response%$'\n'*}"; then
    echo "$URL answered HTTP $code, but the body does not match $BODY" >&2
    return 1
  fi
  echo "$URL answered HTTP $code"
}
