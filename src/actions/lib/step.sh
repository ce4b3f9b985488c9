# shellcheck shell=bash
# What every action's shell leans on: exit handlers that stack (a step's cleanups never replace
# each other), a temporary folder removed on exit, outputs for later steps, and messages that name
# the action. Every function here only defines behaviour; nothing runs when the file is pasted.

# rb_on_exit FUNCTION: runs FUNCTION when the shell exits, the last one registered first.
rb_on_exit() {
  RB_EXIT_HANDLERS+=("$1")
  trap rb_run_exit_handlers EXIT
}

# The EXIT trap: every handler runs, whatever the others did; the shell keeps its exit status.
rb_run_exit_handlers() {
  local i
  for ((i = ${#RB_EXIT_HANDLERS[@]} - 1; i >= 0; i--)); do
    "${RB_EXIT_HANDLERS[i]}" || true
  done
}

# rb_work NAME: sets WORK to a new folder under ${TMPDIR:-/tmp}, removed when the shell exits.
rb_work() {
  WORK="$(mktemp -d "${TMPDIR:-/tmp}/runbook-$1.XXXXXX")"
  rb_on_exit rb_remove_work
}

rb_remove_work() {
  rm -rf "$WORK"
}

# rb_output KEY VALUE: a KEY=VALUE line for later steps (${{ steps.ID.outputs.KEY }}).
rb_output() {
  printf '%s=%s\n' "$1" "$2" >> "${RUNBOOK_OUTPUT:-/dev/null}"
}

# rb_fail MESSAGE…: prints the message on stderr, prefixed with the action's name ($RB_ACTION), and fails.
rb_fail() {
  rb_say "$@" >&2
  exit 1
}

# rb_say MESSAGE…: prints the message on stdout, prefixed with the action's name ($RB_ACTION).
rb_say() {
  echo "${RB_ACTION:+$RB_ACTION: }$*"
}
