.zones[] | select(.name == $zone) | .id
