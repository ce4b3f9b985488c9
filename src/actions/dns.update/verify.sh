# shellcheck shell=bash
# dns.update verify: the zone's authoritative server answers exactly the new value of every record
# (asked directly, without recursion, so no cache answers for it). Inputs: SERVER (empty: the
# zone's first NS record), PORT, ZONE, RECORDS (see records.sh).
rb_dns_update_verify() {
  local nameserver=$SERVER
  if [ -z "$nameserver" ]; then
    # No server given: ask the first of the zone's name servers.
    nameserver=$(dig +short NS "$ZONE" | head -n 1)
    [ -n "$nameserver" ] || {
      echo "no name server found for $ZONE" >&2
      exit 1
    }
  fi
  rb_dns_update_each rb_dns_update_expect
}

# NAME TTL TYPE VALUE: $nameserver answers exactly VALUE, as dig +short prints it.
rb_dns_update_expect() {
  local name type=$3 want answer
  name=$(rb_dns_update_fqdn "$1")
  want=$(rb_dns_update_answer "$3" "$4")
  if ! answer=$(dig @"$nameserver" -p "$PORT" +short +norecurse "$name" "$type"); then
    echo "$name $type: no answer from $nameserver port $PORT: $answer" >&2
    exit 1
  fi
  if [ "$answer" != "$want" ]; then
    echo "$name $type: $nameserver answers '$answer', expected '$want'" >&2
    exit 1
  fi
  echo "$name $type $answer"
}

# rb_dns_update_answer TYPE VALUE: what dig +short prints for the record: CNAME and MX targets absolute.
rb_dns_update_answer() {
  local value=$2
  case $1 in
    CNAME | MX) [[ $value == *. ]] || value="$value." ;;
  esac
  rb_dns_update_data "$1" "$value"
}
