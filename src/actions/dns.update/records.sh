# shellcheck shell=bash
# dns.update's records, shared by its run and its verification: RECORDS holds one record a line,
# "NAME TTL TYPE VALUE" in zone-file order (VALUE is the rest of the line: TXT data may hold
# spaces). NAME is relative to ZONE (the zone without its final dot), `@` for the apex, or absolute.

# rb_dns_update_each FUNCTION: calls FUNCTION NAME TTL TYPE VALUE for each record, in order.
rb_dns_update_each() {
  local line name ttl type value
  # Read from fd 3: FUNCTION keeps the step's stdin.
  while IFS= read -r -u 3 line; do
    name=${line%% *}
    line=${line#* }
    ttl=${line%% *}
    line=${line#* }
    type=${line%% *}
    value=${line#* }
    "$1" "$name" "$ttl" "$type" "$value"
  done 3<<< "$RECORDS"
}

# rb_dns_update_fqdn NAME: `crm` → crm.$ZONE, `@` → $ZONE; an absolute `crm.example.com.` stays as it is.
rb_dns_update_fqdn() {
  case $1 in
    '@') printf '%s\n' "$ZONE" ;;
    *.) printf '%s\n' "$1" ;;
    *) printf '%s\n' "$1.$ZONE" ;;
  esac
}

# rb_dns_update_data TYPE VALUE: the record data as nsupdate takes it and dig prints it: TXT data quoted.
rb_dns_update_data() {
  if [ "$1" = TXT ] && [[ $2 != \"* ]]; then
    printf '"%s"\n' "$2"
  else
    printf '%s\n' "$2"
  fi
}
