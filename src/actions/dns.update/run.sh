# shellcheck shell=bash
# dns.update run: points the records at their new values through RFC 2136 (nsupdate) or the Hetzner
# DNS API. Inputs: PROVIDER (rfc2136 or hetzner), ZONE, RECORDS (see records.sh); for rfc2136 SERVER,
# PORT and TSIG_KEY (tsig-keygen output, or empty for an unsigned update); for hetzner API_URL and
# API_TOKEN. The key and the token reach a private file only, never a command line.
rb_dns_update_run() {
  case $PROVIDER in
    rfc2136) rb_dns_update_nsupdate ;;
    hetzner) rb_dns_update_hetzner ;;
    *)
      echo "unknown provider $PROVIDER" >&2
      exit 1
      ;;
  esac
}

# One signed update for all the records: each name+type is replaced as a whole (delete, then add).
rb_dns_update_nsupdate() {
  local key=()
  if [ -n "$TSIG_KEY" ]; then
    rb_work dns-update
    (
      umask 077
      printf '%s\n' "$TSIG_KEY" > "$WORK/tsig.key"
    )
    key=(-k "$WORK/tsig.key")
  fi
  {
    echo "server $SERVER $PORT"
    echo "zone $ZONE"
    rb_dns_update_each rb_dns_update_nsupdate_record
    echo send
  } | nsupdate "${key[@]}"
}

# NAME TTL TYPE VALUE: the nsupdate commands for one record.
rb_dns_update_nsupdate_record() {
  local name ttl=$2 type=$3 data
  name=$(rb_dns_update_fqdn "$1")
  data=$(rb_dns_update_data "$3" "$4")
  echo "update delete $name $type"
  echo "update add $name $ttl $type $data"
}

rb_dns_update_hetzner() {
  local zone_id
  rb_work dns-update
  (
    umask 077
    printf 'Auth-API-Token: %s\n' "$API_TOKEN" > "$WORK/headers"
  )
  zone_id=$(rb_dns_update_api "$API_URL/zones?name=$ZONE" | jq -r --arg zone "$ZONE" "$(rb_jq_dns_zone_id)")
  [ -n "$zone_id" ] || {
    echo "zone $ZONE not found in the DNS API" >&2
    exit 1
  }
  rb_dns_update_each rb_dns_update_set_record
}

# rb_dns_update_api CURL-ARGUMENTS…: one API request, the token in a header read from the private file.
rb_dns_update_api() {
  curl -sS --fail-with-body --max-time 30 -H @"$WORK/headers" "$@"
}

# NAME TTL TYPE VALUE: updates the record if the zone ($zone_id) has it, else creates it.
rb_dns_update_set_record() {
  local name ttl=$2 type=$3 value=$4 body id
  name=$(rb_dns_update_relative "$1")
  body=$(jq -nc --arg zone_id "$zone_id" --arg name "$name" --arg type "$type" --arg value "$value" --argjson ttl "$ttl" \
    "$(rb_jq_dns_record_body)")
  id=$(rb_dns_update_api "$API_URL/records?zone_id=$zone_id" | jq -r --arg name "$name" --arg type "$type" "$(rb_jq_dns_record_id)")
  if [ -n "$id" ]; then
    rb_dns_update_api -X PUT -H 'Content-Type: application/json' --data "$body" "$API_URL/records/$id" > /dev/null
  else
    rb_dns_update_api -X POST -H 'Content-Type: application/json' --data "$body" "$API_URL/records" > /dev/null
  fi
  echo "set $name $type $value"
}

# rb_dns_update_relative NAME: the name as the API wants it, relative to the zone (`@` for its apex).
rb_dns_update_relative() {
  case $1 in
    "$ZONE.") echo '@' ;;
    *."$ZONE.") printf '%s\n' "${1%."$ZONE."}" ;;
    *) printf '%s\n' "$1" ;;
  esac
}
