#!/usr/bin/env bash
# `make test`: a stack of its own (never `make run`'s data), format and lint
# checks, the disallowed-dependency check, the Kubernetes manifest checks,
# the check that every test file is compiled, the whole test suite, then the
# alerts and dashboards against a real Prometheus (deploy/monitoring/check.sh),
# then the OpenAPI document against the running system (deploy/openapi/check.sh).
# Installs Chromium and its WebDriver (Debian packages) for the web console's
# browser tests when they are missing.
#
# `TEST_CLOCK="2027-12-31 12:00:00" make test` runs the suite with the clock
# moved to that UTC time instead: a stack of its own (STACK=clock), whose
# Postgres runs under libfaketime with the same offset as the tests (so
# `now()` in SQL and `Utc::now()` in Rust agree; Redis keeps the real clock,
# see stack.sh), built on the real clock and torn down afterwards. It skips the format, lint and manifest checks,
# which do not read the clock. It proves that no test depends on the day it
# runs.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"

# The web console's tests drive a real headless Chromium over WebDriver
# (gateway/tests/api/console.rs): Debian's browser and its driver.
if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
  if [[ $EUID -ne 0 ]]; then
    echo "the console's browser tests need Chromium: sudo apt-get install -y chromium chromium-driver" >&2
    exit 1
  fi
  apt-get -o DPkg::Lock::Timeout=600 update -q >&2
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -q chromium chromium-driver >&2
fi

FAKETIME_LIB=/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1
clock_env=()
if [[ -n ${TEST_CLOCK:-} ]]; then
  target="$(date -ud "$TEST_CLOCK" +%s)" || { echo "TEST_CLOCK: not a date: $TEST_CLOCK" >&2; exit 2; }
  if [[ ! -e $FAKETIME_LIB ]]; then
    if [[ $EUID -ne 0 ]]; then
      echo "TEST_CLOCK needs libfaketime: sudo apt-get install -y libfaketime" >&2
      exit 1
    fi
    apt-get -o DPkg::Lock::Timeout=600 update -q >&2
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -q libfaketime >&2
  fi
  # One fixed offset for every process (not "@time", which each process
  # would count from its own start): the clock keeps running, a day ahead.
  # Monotonic clocks and file times stay real (timeouts, cargo's freshness).
  offset=$((target - $(date +%s)))
  [[ $offset -lt 0 ]] || offset="+$offset"
  clock_env=(LD_PRELOAD="$FAKETIME_LIB" FAKETIME="${offset}s" DONT_FAKE_MONOTONIC=1 NO_FAKE_STAT=1)
  export STACK=clock
  # Servers started on an earlier offset must not keep their clock.
  deploy/local/stack.sh down >/dev/null 2>&1 || true
  rm -rf "$ROOT/.stack/clock"
  trap 'deploy/local/stack.sh down >/dev/null 2>&1 || true' EXIT
  PG_FAKETIME="${offset}s" REDIS_MODE=both deploy/local/stack.sh up
else
  export STACK=test
  REDIS_MODE=both deploy/local/stack.sh up

  echo "== cargo fmt --check"
  cargo fmt --all --check
  echo "== cargo clippy"
  cargo clippy --workspace --all-targets -- -D warnings
  echo "== dependency rules"
  # The gateway reaches data only through services: no database driver in it.
  if cargo tree -p gateway -e normal --prefix none --format '{p}' | grep -E '^(tokio-postgres|postgres|deadpool-postgres|sqlx) '; then
    echo "gateway must not depend on a database driver" >&2
    exit 1
  fi

  echo "== kubernetes manifests"
  deploy/k8s/check.sh
  echo "== test files compiled"
  deploy/local/check-tests-compiled.sh
  echo "== no import cycles between modules"
  python3 deploy/local/check-module-cycles.py platform students-svc notify-svc analytics-svc gateway
fi

set -a
# shellcheck disable=SC1091
. ".stack/$STACK/env"
set +a
# Each test creates its own database; drop those of earlier runs.
psql "$PG_ADMIN_URL" -Atqc "SELECT datname FROM pg_database WHERE datname LIKE 'test\_%'" |
  while read -r db; do psql "$PG_ADMIN_URL" -qc "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)"; done

if [[ -n ${TEST_CLOCK:-} ]]; then
  cargo test --workspace --all-targets --no-run
  echo "== cargo test, clock at $(env "${clock_env[@]}" date -u '+%F %T') UTC (Postgres says $(psql "$PG_ADMIN_URL" -Atqc "SELECT now() AT TIME ZONE 'UTC'"))"
  # Only the test processes (and the binaries they start) run on the moved
  # clock, through cargo's runner; cargo and rustc keep the real one.
  host="$(rustc -vV | sed -n 's/^host: //p' | tr 'a-z.-' 'A-Z__')"
  export "CARGO_TARGET_${host}_RUNNER=env ${clock_env[*]}"
  # A Postgres under libfaketime never fires statement_timeout (SET
  # statement_timeout = 1000; SELECT pg_sleep(3) runs 3 s), so the one test
  # of statement timeouts cannot pass here; it reads no date.
  cargo test --workspace --all-targets -- --skip pool_exhaustion_and_statement_timeouts_are_unavailable
else
  echo "== cargo test"
  cargo test --workspace --all-targets
  echo "== alerts and dashboards against a real Prometheus"
  deploy/monitoring/check.sh
  echo "== the OpenAPI document against the running system (schemathesis)"
  deploy/openapi/check.sh
fi
