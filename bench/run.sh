#!/usr/bin/env bash
# `make bench`: release build, the "bench" stack and services started, data
# seeded (once), every scenario driven by wrk at 64 and 256 connections,
# results written to bench/results/<UTC timestamp>.{json,md}, services stopped.
# A benchmark, not a test: no thresholds; exits 0 if it ran. See bench/README.md.
#
# Environment (defaults in brackets):
#   BENCH_DURATION [15]   seconds per measured run
#   BENCH_WARMUP [3]      seconds of warm-up before each measured run (0: none)
#   BENCH_THREADS [2]     wrk threads
#   BENCH_CONNECTIONS ["64 256"]
#   BENCH_SCENARIOS ["healthz get_student get_student_uncached list_first
#                     list_first_uncached list_deep zipf_mixed"]
#                         <name>_uncached runs bench/<name>.lua against a second
#                         gateway with CACHE_ENABLED=false; zipf_mixed runs the
#                         bench_zipf example (reads + writes, hit rate, stale reads)
#   BENCH_HOT_STUDENTS [5000]  records get_student reads
#   BENCH_ZIPF_S [1.1], BENCH_ZIPF_WRITES [0.05]  Zipf exponent, write share
#   BENCH_ZIPF_WARMUP [30]  warm-up of zipf_mixed: a steady-state hit rate needs
#                           the long tail touched once, as a school day does
#   BENCH_TIMEOUT [5s]    wrk per-request timeout (the gateway's gRPC deadline)
#   BENCH_SCHOOLS [20], BENCH_STUDENTS [50000], BENCH_SEED_CONCURRENCY [64]
#   BENCH_GATEWAY_PORT [8280], BENCH_GRPC_BASE_PORT [50251]
#   BENCH_RECORDS [1]     0: skip the records scenario (bench_records: bulk
#                         attendance by BENCH_RECORDS_TEACHERS [32] teachers with
#                         classes of BENCH_RECORDS_CLASS [40], an import of
#                         BENCH_RECORDS_IMPORT [10000] rows, outbox publish lag)
#   BENCH_KEEP_STACK [0]  1: leave the bench Postgres/Redis running afterwards
#                         (they are stopped only if this script started them)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

DURATION="${BENCH_DURATION:-15}"
WARMUP="${BENCH_WARMUP:-3}"
THREADS="${BENCH_THREADS:-2}"
CONNECTIONS="${BENCH_CONNECTIONS:-64 256}"
SCENARIOS="${BENCH_SCENARIOS:-healthz get_student get_student_uncached list_first list_first_uncached list_deep zipf_mixed}"
export BENCH_HOT_STUDENTS="${BENCH_HOT_STUDENTS:-5000}"
ZIPF_S="${BENCH_ZIPF_S:-1.1}"
ZIPF_WRITES="${BENCH_ZIPF_WRITES:-0.05}"
ZIPF_WARMUP="${BENCH_ZIPF_WARMUP:-30}"
TIMEOUT="${BENCH_TIMEOUT:-5s}"
SCHOOLS="${BENCH_SCHOOLS:-20}"
STUDENTS="${BENCH_STUDENTS:-50000}"
SEED_CONCURRENCY="${BENCH_SEED_CONCURRENCY:-64}"
GATEWAY_PORT="${BENCH_GATEWAY_PORT:-8280}"
GRPC_BASE_PORT="${BENCH_GRPC_BASE_PORT:-50251}"
KEEP_STACK="${BENCH_KEEP_STACK:-0}"
RECORDS_RUN="${BENCH_RECORDS:-1}"
RECORDS_TEACHERS="${BENCH_RECORDS_TEACHERS:-32}"
RECORDS_CLASS="${BENCH_RECORDS_CLASS:-40}"
RECORDS_IMPORT="${BENCH_RECORDS_IMPORT:-10000}"

WORK="$ROOT/bench/.work"
RESULTS="$ROOT/bench/results"
BASE="http://127.0.0.1:$GATEWAY_PORT"
UNCACHED_BASE="http://127.0.0.1:$((GATEWAY_PORT + 1))"
STAMP="$(date -u +%Y%m%dT%H%M%SZ)"
RUN_DIR="$WORK/runs/$STAMP"

log() { printf '[bench] %s\n' "$*" >&2; }
die() { printf '[bench] ERROR: %s\n' "$*" >&2; exit 1; }

# --- tools -----------------------------------------------------------------
need() {
  local cmd=$1 pkg=$2
  command -v "$cmd" >/dev/null && return
  if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
    log "installing $pkg"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$pkg" >/dev/null
  else
    die "$cmd is missing: run 'sudo apt-get install -y $pkg'"
  fi
}
need wrk wrk
need curl curl
need python3 python3

mkdir -p "$WORK" "$RESULTS" "$RUN_DIR"

# --- build -----------------------------------------------------------------
# The same build deploy/local/run.sh does (so its own build is a no-op), plus
# the seeder.
log "building (release)"
cargo build --release --bins
cargo build --release -p gateway --example bench_seed --example bench_zipf --example bench_records
SEEDER="$ROOT/target/release/examples/bench_seed"
ZIPF="$ROOT/target/release/examples/bench_zipf"
RECORDS="$ROOT/target/release/examples/bench_records"

# --- start -----------------------------------------------------------------
if curl -fsS -o /dev/null "$BASE/healthz" 2>/dev/null; then
  die "something already answers on $BASE; stop it or set BENCH_GATEWAY_PORT"
fi
stack_was_up=0
if STACK=bench deploy/local/stack.sh status 2>/dev/null | grep -Eq '^ +postgres +up'; then
  stack_was_up=1
fi

RUN_PID=""
UNCACHED_PID=""
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [[ -n $UNCACHED_PID ]]; then
    kill -TERM "$UNCACHED_PID" 2>/dev/null || true
    wait "$UNCACHED_PID" 2>/dev/null || true
  fi
  if [[ -n $RUN_PID ]] && kill -0 "$RUN_PID" 2>/dev/null; then
    log "stopping services"
    kill -TERM "$RUN_PID" 2>/dev/null || true
    for _ in $(seq 1 400); do
      kill -0 "$RUN_PID" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$RUN_PID" 2>/dev/null; then
      log "services did not stop in 40 s; killing process group $RUN_PID"
      kill -KILL -- "-$RUN_PID" 2>/dev/null || true
    fi
    wait "$RUN_PID" 2>/dev/null || true
  fi
  if [[ $stack_was_up == 0 && $KEEP_STACK != 1 ]]; then
    STACK=bench deploy/local/stack.sh down >/dev/null 2>&1 || true
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

log "starting the bench stack and services (logs: $RUN_DIR/services.log)"
# Its own session, so it can be stopped as a group whatever happens.
# Rate limits stay on (every request pays its Redis check, as in production)
# with budgets far above what one machine can send, so they never refuse.
STACK=bench GATEWAY_PORT="$GATEWAY_PORT" GRPC_BASE_PORT="$GRPC_BASE_PORT" SEED_DEMO=0 \
  RATE_LIMIT_LOGIN=100000/1s RATE_LIMIT_EXPENSIVE=100000/1s \
  RATE_LIMIT_WRITE=1000000/1s RATE_LIMIT_READ=1000000/1s \
  RUST_LOG=warn LOG_FORMAT=json \
  setsid deploy/local/run.sh >"$RUN_DIR/services.log" 2>&1 </dev/null &
RUN_PID=$!

deadline=$((SECONDS + 300))
until curl -fsS -o /dev/null "$BASE/readyz" 2>/dev/null; do
  if ! kill -0 "$RUN_PID" 2>/dev/null; then
    tail -n 30 "$RUN_DIR/services.log" >&2
    RUN_PID=""
    die "deploy/local/run.sh exited before the gateway was ready"
  fi
  ((SECONDS < deadline)) || die "gateway not ready after 300 s; see $RUN_DIR/services.log"
  sleep 0.3
done
log "ready at $BASE"

# A second gateway on the same services and Redis with the cache off: the
# uncached variants run against it.
(
  set -a
  # shellcheck disable=SC1091
  . "$ROOT/.stack/bench/env"
  # shellcheck disable=SC1091
  . "$ROOT/.stack/bench/secrets.env"
  set +a
  export STUDENTS_URL="http://127.0.0.1:$GRPC_BASE_PORT" GATEWAY_LISTEN="127.0.0.1:$((GATEWAY_PORT + 1))" \
    GATEWAY_ADMIN_LISTEN="127.0.0.1:$((GATEWAY_PORT + 1009))" \
    CACHE_ENABLED=false RATE_LIMIT_LOGIN=100000/1s RATE_LIMIT_EXPENSIVE=100000/1s \
    RATE_LIMIT_WRITE=1000000/1s RATE_LIMIT_READ=1000000/1s RUST_LOG=warn LOG_FORMAT=json
  exec "$ROOT/target/release/gateway"
) >"$RUN_DIR/gateway-uncached.log" 2>&1 &
UNCACHED_PID=$!
deadline=$((SECONDS + 30))
until curl -fsS -o /dev/null "$UNCACHED_BASE/readyz" 2>/dev/null; do
  kill -0 "$UNCACHED_PID" 2>/dev/null || die "the uncached gateway exited; see $RUN_DIR/gateway-uncached.log"
  ((SECONDS < deadline)) || die "uncached gateway not ready after 30 s"
  sleep 0.2
done

service_pids() {
  ps -o pid=,comm= --ppid "$RUN_PID" |
    awk '$2 ~ /^(gateway|students-svc|analytics-svc|notify-svc)$/ {print $1, $2}'
  if [[ -n $UNCACHED_PID ]]; then echo "$UNCACHED_PID gateway-uncached"; fi
}

# One JSON line: VmRSS / VmHWM (KiB) of every service process.
rss_line() {
  local label=$1 first=1 pid name rss hwm
  printf '{"after":"%s","services":{' "$label"
  while read -r pid name; do
    rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)
    hwm=$(awk '/^VmHWM:/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)
    ((first)) || printf ','
    first=0
    printf '"%s":{"pid":%s,"vm_rss_kib":%s,"vm_hwm_kib":%s}' "$name" "$pid" "${rss:-0}" "${hwm:-0}"
  done < <(service_pids)
  printf '}}\n'
}
rss_line "start" >"$RUN_DIR/rss.jsonl"

# --- seed ------------------------------------------------------------------
OPERATOR_TOKEN="$(sed -n 's/^OPERATOR_TOKEN=//p' "$ROOT/.stack/bench/secrets.env")"
[[ -n $OPERATOR_TOKEN ]] || die "no OPERATOR_TOKEN in .stack/bench/secrets.env"
log "seeding ($SCHOOLS schools, $STUDENTS students; skipped if already seeded)"
OPERATOR_TOKEN="$OPERATOR_TOKEN" "$SEEDER" --base "$BASE" --schools "$SCHOOLS" \
  --students "$STUDENTS" --concurrency "$SEED_CONCURRENCY" --out "$WORK/seed.json" |
  tee "$RUN_DIR/seed.log"
rss_line "seed" >>"$RUN_DIR/rss.jsonl"

# --- load ------------------------------------------------------------------
LINES="$RUN_DIR/wrk.jsonl"
: >"$LINES"
run_wrk() { # scenario connections seconds out-file
  local script=${1%_uncached} base=$BASE
  [[ $1 == *_uncached ]] && base=$UNCACHED_BASE
  if [[ $1 == zipf_mixed ]]; then
    "$ZIPF" --base "$BASE" --work "$WORK" --scenario "$1" --connections "$2" --seconds "$3" \
      --zipf-s "$ZIPF_S" --write-share "$ZIPF_WRITES" ${4:+--out "$4"}
    return
  fi
  BENCH_WORK="$WORK" BENCH_SCENARIO="$1" BENCH_CONNECTIONS="$2" BENCH_THREADS="$THREADS" \
    BENCH_OUT="$4" wrk -t"$THREADS" -c"$2" -d"$3"s --timeout "$TIMEOUT" \
    -s "$ROOT/bench/$script.lua" "$base"
}
for c in $CONNECTIONS; do
  for s in $SCENARIOS; do
    [[ $s == zipf_mixed || -f $ROOT/bench/${s%_uncached}.lua ]] || die "no scenario script bench/${s%_uncached}.lua"
    warm=$WARMUP
    [[ $s == zipf_mixed ]] && warm=$ZIPF_WARMUP
    if ((warm > 0)); then
      run_wrk "$s" "$c" "$warm" "" >/dev/null 2>&1 || true
    fi
    log "$s, $c connections, ${DURATION} s"
    if ! run_wrk "$s" "$c" "$DURATION" "$LINES" >"$RUN_DIR/wrk-$s-$c.txt" 2>&1; then
      log "wrk failed for $s at $c connections; see $RUN_DIR/wrk-$s-$c.txt"
    fi
    rss_line "$s/$c" >>"$RUN_DIR/rss.jsonl"
  done
done

# School records (issue 4): bulk attendance by concurrent teachers, a CSV
# import, and the outbox publish lag under that load. Runs once.
if [[ $RECORDS_RUN == 1 ]]; then
  log "records: $RECORDS_TEACHERS teachers x $RECORDS_CLASS students, import of $RECORDS_IMPORT rows"
  if ! OPERATOR_TOKEN="$OPERATOR_TOKEN" "$RECORDS" --base "$BASE" \
    --students-admin "http://127.0.0.1:$((GATEWAY_PORT + 1001))" --work "$WORK" \
    --teachers "$RECORDS_TEACHERS" --class-size "$RECORDS_CLASS" --seconds "$DURATION" \
    --import-rows "$RECORDS_IMPORT" --out "$RUN_DIR/records.jsonl" >"$RUN_DIR/records.txt" 2>&1; then
    log "records failed; see $RUN_DIR/records.txt"
  fi
  rss_line "records" >>"$RUN_DIR/rss.jsonl"
fi

# Every service's own metrics (admin listeners, see deploy/local/run.sh).
for i in 0 1 2 3; do
  curl -fsS "http://127.0.0.1:$((GATEWAY_PORT + 1000 + i))/metrics" >"$RUN_DIR/metrics-$i.txt" 2>/dev/null || true
done

# --- report ----------------------------------------------------------------
export STAMP RUN_DIR RESULTS DURATION WARMUP THREADS TIMEOUT SCHOOLS STUDENTS WORK
python3 "$ROOT/bench/report.py"
log "results: bench/results/$STAMP.json, bench/results/$STAMP.md (raw wrk output: $RUN_DIR)"
