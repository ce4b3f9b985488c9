# shellcheck shell=bash
# Docker Compose as this machine has it: the v2 plugin (`docker compose`, what Docker's own packages
# and get.docker.com install) or v1 (`docker-compose`, the only one Debian 12 packages). The flags
# used here (`-f`, `up -d`, `config --services`, `ps --services --filter status=running`) mean the
# same in both.

# rb_compose ARGS…: runs the Compose this machine has, or fails naming the package to install.
rb_compose() {
  if docker compose version > /dev/null 2>&1; then
    docker compose "$@"
  elif command -v docker-compose > /dev/null; then
    docker-compose "$@"
  else
    echo "neither Compose v2 (docker compose) nor v1 (docker-compose) is installed: apt-get install -y docker-compose" >&2
    return 127
  fi
}

# rb_docker_answers: fails naming the daemon, not a template error, when the Docker daemon does not answer.
rb_docker_answers() {
  local error
  if ! error=$(docker version 2>&1 > /dev/null); then
    printf 'the Docker daemon does not answer (start it: systemctl start docker): %s\n' "$(tail -n 1 <<< "$error")" >&2
    return 1
  fi
}
