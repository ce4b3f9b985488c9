# shellcheck shell=bash
# compose.up run: creates and starts the services of a compose file (all of them when SERVICES is
# empty), with the Compose this machine has. Inputs: FILE SERVICES (space-separated, or empty).
rb_compose_up_run() {
  local -a names
  read -ra names <<< "${SERVICES:-}"
  rb_docker_answers
  [ -f "$FILE" ] || { echo "no compose file at $FILE" >&2; exit 1; }
  rb_compose -f "$FILE" up -d "${names[@]}"
}
