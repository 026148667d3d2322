# Sourced by container-setup.sh and test-container.sh: logging, time limits and stopping processes.
# The sourcing script sets SCRIPT_NAME and SCRIPT_START first.
# shellcheck shell=bash

# Read by the sourcing scripts' exit handlers, to say where a failure happened.
# shellcheck disable=SC2034
CURRENT_STEP="start"

log() { printf '[%s %4ss] %s\n' "$SCRIPT_NAME" "$(( $(date +%s) - SCRIPT_START ))" "$*"; }
step() { CURRENT_STEP=$*; log "== $*"; }
fail() { log "FAIL: $*"; exit 1; }

# bounded SECONDS COMMAND...: run a long step with a time limit, in the
# background so that an INT/TERM sent to this script is handled at once.
BG_PID=""
bounded() {
  local secs=$1 rc=0
  shift
  timeout "$secs" "$@" &
  BG_PID=$!
  wait "$BG_PID" || rc=$?
  BG_PID=""
  return "$rc"
}

# alive PID: the process exists and is not a zombie (a detached engine is
# reaped by whatever adopted it, which may be slow to do so).
alive() {
  [[ -r /proc/$1/status ]] && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null
}

# stop_pid PID TRIES: SIGTERM, then up to TRIES half-second waits; fails if the process is still there.
stop_pid() {
  local pid=$1 tries=$2 i
  kill -TERM "$pid" 2>/dev/null
  for ((i = 0; i < tries; i++)); do
    alive "$pid" || return 0
    sleep 0.5
  done
  ! alive "$pid"
}
