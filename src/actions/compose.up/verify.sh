# shellcheck shell=bash
# compose.up verify: every service asked for (every service of the file when SERVICES is empty) has
# a running container. Inputs: FILE SERVICES.
rb_compose_up_verify() {
  local wanted running missing
  rb_docker_answers
  wanted=$SERVICES
  [ -n "$wanted" ] || wanted=$(rb_compose -f "$FILE" config --services)
  running=$(rb_compose -f "$FILE" ps --services --filter status=running)
  missing=$(comm -23 <(tr ' ' '\n' <<< "$wanted" | sed '/^$/d' | LC_ALL=C sort -u) <(LC_ALL=C sort -u <<< "$running"))
  if [ -n "$missing" ]; then
    echo "not running: $(paste -sd ' ' <<< "$missing")" >&2
    exit 1
  fi
  echo "running: $(tr ' ' '\n' <<< "$wanted" | sed '/^$/d' | paste -sd ' ')"
}
