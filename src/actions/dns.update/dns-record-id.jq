first(.records[] | select(.name == $name and .type == $type) | .id) // empty
