# Sourced by the checks that need the whole system running (deploy/monitoring,
# deploy/openapi). `start_system LOG URL...` starts deploy/local/run.sh in
# the background (debug build, no demo school, JSON logs at warn; the
# caller's environment picks the ports and anything else), waits until every
# URL answers (5 minutes at most; a service that exits fails at once), loads
# the stack's OPERATOR_TOKEN, and stops the system when the script exits.
# Needs ROOT and STACK.

SYSTEM_PID=""

stop_system() {
  if [[ -n $SYSTEM_PID ]]; then
    kill -TERM "$SYSTEM_PID" 2>/dev/null || true
    wait "$SYSTEM_PID" 2>/dev/null || true
    SYSTEM_PID=""
  fi
}

start_system() {
  local log=$1 url deadline=$((SECONDS + 300))
  shift
  PROFILE=debug SEED_DEMO=0 LOG_FORMAT=json RUST_LOG=warn "$ROOT/deploy/local/run.sh" >"$log" 2>&1 &
  SYSTEM_PID=$!
  trap stop_system EXIT
  for url in "$@"; do
    until curl -fsS "$url" >/dev/null 2>&1; do
      if ! kill -0 "$SYSTEM_PID" 2>/dev/null || ((SECONDS >= deadline)); then
        echo "the system did not start; the end of $log:" >&2
        tail -n 30 "$log" >&2
        return 1
      fi
      sleep 0.5
    done
  done
  set -a
  # shellcheck disable=SC1091
  . "$ROOT/.stack/$STACK/secrets.env"
  set +a
}
