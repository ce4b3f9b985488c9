{zone_id: $zone_id, name: $name, type: $type, value: $value, ttl: $ttl}
