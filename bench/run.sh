#!/usr/bin/env bash
# `make bench`: release build, the "bench" stack and services started, data
# seeded (once), every scenario driven by wrk at 64 and 256 connections, the
# records run (with dashboard freshness and consumer lag alongside), the
# dashboards phase on its own database (and with BENCH_DISTRICT=1 at district
# scale), results written to bench/results/<UTC timestamp>.{json,md},
# services stopped.
# A benchmark, not a test: targets are reported (PASS / MISS), never enforced;
# exits 0 if it ran. See bench/README.md.
#
# Environment (defaults in brackets):
#   BENCH_DURATION [15]   seconds per measured run
#   BENCH_WARMUP [3]      seconds of warm-up before each measured run (0: none)
#   BENCH_THREADS [2]     wrk threads
#   BENCH_CONNECTIONS ["64 256"]
#   BENCH_SCENARIOS ["healthz get_student get_student_checked get_student_unchecked
#                     get_student_uncached list_first
#                     list_first_uncached list_deep zipf_mixed"]
#                         <name>_uncached runs bench/<name>.lua against a second
#                         gateway with CACHE_ENABLED=false; <name>_checked and
#                         <name>_unchecked against two more gateways started
#                         alike but for AUTH_REVOCATION_CHECK (true / false):
#                         the session check's cost, issue 19;
#                         gateway with CACHE_ENABLED=false; zipf_mixed runs the
#                         bench_zipf example (reads + writes, hit rate, stale reads)
#                         Set but empty (BENCH_SCENARIOS=) with BENCH_RECORDS=0:
#                         no API seed and no main scenarios (dashboards only)
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
#   BENCH_FRESHNESS [1]   with the records scenario: bench_freshness marks one
#                         session over HTTP every BENCH_FRESHNESS_INTERVAL_MS
#                         [500] and polls the admin dashboard and the student
#                         summary until they show it, and samples analytics-svc's
#                         consumer lag and pending entries every second
#   BENCH_DASHBOARDS [1]  the dashboards phase on its own database (district):
#                         one school of BENCH_DISTRICT_STUDENTS [2500] students
#                         and BENCH_DISTRICT_DAYS [50] school days of attendance
#                         seeded by students-svc's bench_district example (seed
#                         BENCH_DISTRICT_SEED [15]), read models built by
#                         `analytics-svc rebuild` (timed), then BENCH_DASH_SCENARIOS
#                         ["dash_school dash_school_uncached dash_teacher
#                         dash_teacher_uncached student_summary student_summary_uncached"]
#                         at BENCH_DASH_CONNECTIONS ["16"]
#   BENCH_DISTRICT [0]    1: then grow to BENCH_DISTRICT_SCHOOLS [40] schools
#                         (100,000 students, 5,000,000 attendance rows), rebuild
#                         each, and measure the same scenarios again
#   BENCH_DASH_TEACHERS [10]  teachers signed in per school (dash_teacher)
#   BENCH_REBUILD_JOBS [2]    district rebuilds at a time (the timed one-school
#                             rebuild always runs alone)
#   BENCH_NOTIFY [1]      the notify phase (issue 17), after the records run:
#                         bench_ws holds BENCH_WS_SOCKETS [10000] WebSocket
#                         connections on the gateway (gateway RSS, and the
#                         latency of BENCH_WS_PUSHES [500] pushes to one user
#                         while all are open), then bench_announce announces to
#                         a fresh school of BENCH_ANNOUNCE_RECIPIENTS [10000]
#                         guardians (time to the 202, time until every e-mail
#                         is at the local SMTP sink), then bench_report_cards
#                         asks for the report cards of a grade of
#                         BENCH_REPORT_CARD_STUDENTS [250] graded students in
#                         one request (render p50 per card, the grade end to
#                         end). Raises `ulimit -n`.
#   BENCH_PROFILE [release]   debug: use the debug build (tooling checks only)
#   BENCH_BUILD [1]           0: use the binaries as built (no cargo build)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

DURATION="${BENCH_DURATION:-15}"
WARMUP="${BENCH_WARMUP:-3}"
THREADS="${BENCH_THREADS:-2}"
CONNECTIONS="${BENCH_CONNECTIONS:-64 256}"
SCENARIOS="${BENCH_SCENARIOS-healthz get_student get_student_checked get_student_unchecked get_student_uncached list_first list_first_uncached list_deep zipf_mixed}"
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
FRESHNESS_RUN="${BENCH_FRESHNESS:-1}"
FRESHNESS_INTERVAL="${BENCH_FRESHNESS_INTERVAL_MS:-500}"
DASH_RUN="${BENCH_DASHBOARDS:-1}"
DISTRICT_RUN="${BENCH_DISTRICT:-0}"
DISTRICT_SCHOOLS="${BENCH_DISTRICT_SCHOOLS:-40}"
DISTRICT_STUDENTS="${BENCH_DISTRICT_STUDENTS:-2500}"
DISTRICT_DAYS="${BENCH_DISTRICT_DAYS:-50}"
DISTRICT_SEED="${BENCH_DISTRICT_SEED:-15}"
DASH_SCENARIOS="${BENCH_DASH_SCENARIOS-dash_school dash_school_uncached dash_teacher dash_teacher_uncached student_summary student_summary_uncached}"
DASH_CONNECTIONS="${BENCH_DASH_CONNECTIONS:-16}"
export BENCH_DASH_TEACHERS="${BENCH_DASH_TEACHERS:-10}"
REBUILD_JOBS="${BENCH_REBUILD_JOBS:-2}"
PROFILE="${BENCH_PROFILE:-release}"
NOTIFY_RUN="${BENCH_NOTIFY:-1}"
WS_SOCKETS="${BENCH_WS_SOCKETS:-10000}"
WS_PUSHES="${BENCH_WS_PUSHES:-500}"
ANNOUNCE_RECIPIENTS="${BENCH_ANNOUNCE_RECIPIENTS:-10000}"
REPORT_CARD_STUDENTS="${BENCH_REPORT_CARD_STUDENTS:-250}"

# Every socket is a file descriptor, in the gateway and in bench_ws (both
# inherit this limit): as many as the hard limit allows, up to 65536.
hard_nofile=$(ulimit -Hn)
[[ $hard_nofile == unlimited ]] && hard_nofile=65536
ulimit -n "$((hard_nofile < 65536 ? hard_nofile : 65536))" 2>/dev/null || true

WORK="$ROOT/bench/.work"
RESULTS="$ROOT/bench/results"
BASE="http://127.0.0.1:$GATEWAY_PORT"
UNCACHED_BASE="http://127.0.0.1:$((GATEWAY_PORT + 1))"
UNCHECKED_BASE="http://127.0.0.1:$((GATEWAY_PORT + 5))"
CHECKED_BASE="http://127.0.0.1:$((GATEWAY_PORT + 6))"
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
need psql postgresql-client

mkdir -p "$WORK" "$RESULTS" "$RUN_DIR"

# --- build -----------------------------------------------------------------
# The same build deploy/local/run.sh does (so its own build is a no-op), plus
# the seeder.
log "building ($PROFILE)"
case "$PROFILE" in
  release) CARGO_PROFILE=(--release) ;;
  debug) CARGO_PROFILE=() ;;
  *) die "BENCH_PROFILE must be release or debug" ;;
esac
if [[ ${BENCH_BUILD:-1} == 1 ]]; then
  cargo build "${CARGO_PROFILE[@]}" --bins
  cargo build "${CARGO_PROFILE[@]}" -p gateway --example bench_seed --example bench_zipf \
    --example bench_records --example bench_freshness --example bench_ws --example bench_announce \
    --example bench_report_cards
  cargo build "${CARGO_PROFILE[@]}" -p students-svc --example bench_district
fi
BIN="$ROOT/target/$PROFILE"
SEEDER="$BIN/examples/bench_seed"
ZIPF="$BIN/examples/bench_zipf"
RECORDS="$BIN/examples/bench_records"
FRESHNESS="$BIN/examples/bench_freshness"
BENCH_WS="$BIN/examples/bench_ws"
BENCH_ANNOUNCE="$BIN/examples/bench_announce"
BENCH_REPORT_CARDS="$BIN/examples/bench_report_cards"
DISTRICT_SEEDER="$BIN/examples/bench_district"

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
UNCHECKED_PID=""
CHECKED_PID=""
DIST_PIDS=()
stop_district() {
  local p
  for p in "${DIST_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${DIST_PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  DIST_PIDS=()
}
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  stop_district
  for p in $UNCACHED_PID $UNCHECKED_PID $CHECKED_PID; do
    kill -TERM "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
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
# Access tokens live an hour (the most allowed): the seed's sign-ins serve
# the whole run.
STACK=bench GATEWAY_PORT="$GATEWAY_PORT" GRPC_BASE_PORT="$GRPC_BASE_PORT" SEED_DEMO=0 PROFILE="$PROFILE" \
  JWT_TTL_SECS=3600 RATE_LIMIT_LOGIN=100000/1s RATE_LIMIT_EXPENSIVE=100000/1s \
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

# More gateways on the same services and Redis: with the cache off (the
# uncached variants) and with the session revocation check off (the
# unchecked variants: its cost, compared in this run).
start_gateway() { # port admin-port log extra-env...
  local port=$1 admin=$2 out=$3
  shift 3
  (
    set -a
    # shellcheck disable=SC1091
    . "$ROOT/.stack/bench/env"
    # shellcheck disable=SC1091
    . "$ROOT/.stack/bench/secrets.env"
    set +a
    export STUDENTS_URL="http://127.0.0.1:$GRPC_BASE_PORT" GATEWAY_LISTEN="127.0.0.1:$port" \
      ANALYTICS_URL="http://127.0.0.1:$((GRPC_BASE_PORT + 1))" NOTIFY_URL="http://127.0.0.1:$((GRPC_BASE_PORT + 2))" \
      GATEWAY_ADMIN_LISTEN="127.0.0.1:$admin" JWT_TTL_SECS=3600 MIMALLOC_ARENA_EAGER_COMMIT=0 \
      RATE_LIMIT_LOGIN=100000/1s RATE_LIMIT_EXPENSIVE=100000/1s \
      RATE_LIMIT_WRITE=1000000/1s RATE_LIMIT_READ=1000000/1s RUST_LOG=warn LOG_FORMAT=json "$@"
    exec "$BIN/gateway"
  ) >"$out" 2>&1 &
}
start_gateway $((GATEWAY_PORT + 1)) $((GATEWAY_PORT + 1009)) "$RUN_DIR/gateway-uncached.log" CACHE_ENABLED=false
UNCACHED_PID=$!
start_gateway $((GATEWAY_PORT + 5)) $((GATEWAY_PORT + 1020)) "$RUN_DIR/gateway-unchecked.log" AUTH_REVOCATION_CHECK=false
UNCHECKED_PID=$!
start_gateway $((GATEWAY_PORT + 6)) $((GATEWAY_PORT + 1021)) "$RUN_DIR/gateway-checked.log" AUTH_REVOCATION_CHECK=true
CHECKED_PID=$!
deadline=$((SECONDS + 30))
for g in "uncached $UNCACHED_PID $UNCACHED_BASE" "unchecked $UNCHECKED_PID $UNCHECKED_BASE" \
  "checked $CHECKED_PID $CHECKED_BASE"; do
  read -r name pid url <<<"$g"
  until curl -fsS -o /dev/null "$url/readyz" 2>/dev/null; do
    kill -0 "$pid" 2>/dev/null || die "the $name gateway exited; see $RUN_DIR/gateway-$name.log"
    ((SECONDS < deadline)) || die "$name gateway not ready after 30 s"
    sleep 0.2
  done
done

service_pids() {
  ps -o pid=,comm= --ppid "$RUN_PID" |
    awk '$2 ~ /^(gateway|students-svc|analytics-svc|notify-svc)$/ {print $1, $2}'
  if [[ -n $UNCACHED_PID ]]; then echo "$UNCACHED_PID gateway-uncached"; fi
  if [[ -n $UNCHECKED_PID ]]; then echo "$UNCHECKED_PID gateway-unchecked"; fi
  if [[ -n $CHECKED_PID ]]; then echo "$CHECKED_PID gateway-checked"; fi
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
LINES="$RUN_DIR/wrk.jsonl"
: >"$LINES"
# The API-seeded data set serves the scenarios and the records run; a run of
# the dashboards phase alone (BENCH_SCENARIOS= BENCH_RECORDS=0) skips it.
MAIN_RUN=0
[[ -n ${SCENARIOS// /} || $RECORDS_RUN == 1 ]] && MAIN_RUN=1
if [[ $MAIN_RUN == 1 ]]; then
log "seeding ($SCHOOLS schools, $STUDENTS students; skipped if already seeded)"
OPERATOR_TOKEN="$OPERATOR_TOKEN" "$SEEDER" --base "$BASE" --schools "$SCHOOLS" \
  --students "$STUDENTS" --concurrency "$SEED_CONCURRENCY" --out "$WORK/seed.json" |
  tee "$RUN_DIR/seed.log"
rss_line "seed" >>"$RUN_DIR/rss.jsonl"
fi

# Waits until analytics-svc and notify-svc have caught up: the events they
# consumed and the jobs notify-svc finished unchanged for 3 s in a row (at
# most 600 s). A measured phase then starts on an idle system, not behind
# the backlog of a seed or of the phase before.
quiesce() {
  local what=$1 last="" now same=0 start=$SECONDS
  while ((SECONDS - start < 600)); do
    now=$(for port in $((GATEWAY_PORT + 1002)) $((GATEWAY_PORT + 1003)); do
      curl -fsS "http://127.0.0.1:$port/metrics" 2>/dev/null
    done | awk '/^(events_consumed_total|jobs_completed_total)\{/ {s += $NF} END {printf "%.0f", s}')
    if [[ $now == "$last" ]]; then
      ((++same >= 3)) && break
    else
      same=0
    fi
    last=$now
    sleep 1
  done
  log "$what: the consumers and jobs were idle after $((SECONDS - start)) s"
}

# --- load ------------------------------------------------------------------
run_wrk() { # scenario connections seconds out-file [base uncached-base work phase]
  local script=${1%_uncached} base=${5:-$BASE}
  script=${script%_unchecked}
  script=${script%_checked}
  [[ $1 == *_uncached ]] && base=${6:-$UNCACHED_BASE}
  [[ $1 == *_unchecked ]] && base=$UNCHECKED_BASE
  [[ $1 == *_checked ]] && base=$CHECKED_BASE
  if [[ $1 == zipf_mixed ]]; then
    "$ZIPF" --base "$BASE" --work "$WORK" --scenario "$1" --connections "$2" --seconds "$3" \
      --zipf-s "$ZIPF_S" --write-share "$ZIPF_WRITES" ${4:+--out "$4"}
    return
  fi
  BENCH_WORK="${7:-$WORK}" BENCH_PHASE="${8:-}" BENCH_SCENARIO="$1" BENCH_CONNECTIONS="$2" \
    BENCH_THREADS="$THREADS" BENCH_OUT="$4" wrk -t"$THREADS" -c"$2" -d"$3"s --timeout "$TIMEOUT" \
    -s "$ROOT/bench/$script.lua" "$base"
}
if [[ $MAIN_RUN == 1 ]]; then
for c in $CONNECTIONS; do
  for s in $SCENARIOS; do
    script=${s%_uncached}
    script=${script%_unchecked}
    script=${script%_checked}
    [[ $s == zipf_mixed || -f $ROOT/bench/$script.lua ]] || die "no scenario script bench/$script.lua"
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
fi

# School records (issue 4): bulk attendance by concurrent teachers, a CSV
# import, and the outbox publish lag under that load. Runs once. Meanwhile
# (issue 15) bench_freshness marks one session at a time over HTTP and times
# until the admin dashboard and the student summary show it, and samples
# analytics-svc's consumer lag; report.py splits both by records phase.
if [[ $RECORDS_RUN == 1 ]]; then
  FRESH_PID=""
  if [[ $FRESHNESS_RUN == 1 ]]; then
    : >"$RUN_DIR/freshness.jsonl"
    OPERATOR_TOKEN="$OPERATOR_TOKEN" "$FRESHNESS" --base "$BASE" --work "$WORK" \
      --analytics-admin "http://127.0.0.1:$((GATEWAY_PORT + 1002))" \
      --interval-ms "$FRESHNESS_INTERVAL" --stop-file "$RUN_DIR/freshness.stop" \
      --out "$RUN_DIR/freshness.jsonl" >"$RUN_DIR/freshness.txt" 2>&1 &
    FRESH_PID=$!
    # It signs in, sets up its course and waits for analytics-svc to catch up
    # with the seed first: the records start once it is probing.
    for _ in $(seq 1 6000); do
      grep -q '^freshness: probing' "$RUN_DIR/freshness.txt" 2>/dev/null && break
      kill -0 "$FRESH_PID" 2>/dev/null || break
      sleep 0.1
    done
  else
    quiesce "records"
  fi
  log "records: $RECORDS_TEACHERS teachers x $RECORDS_CLASS students, import of $RECORDS_IMPORT rows"
  if ! OPERATOR_TOKEN="$OPERATOR_TOKEN" "$RECORDS" --base "$BASE" \
    --students-admin "http://127.0.0.1:$((GATEWAY_PORT + 1001))" --work "$WORK" \
    --teachers "$RECORDS_TEACHERS" --class-size "$RECORDS_CLASS" --seconds "$DURATION" \
    --import-rows "$RECORDS_IMPORT" --out "$RUN_DIR/records.jsonl" >"$RUN_DIR/records.txt" 2>&1; then
    log "records failed; see $RUN_DIR/records.txt"
  fi
  if [[ -n $FRESH_PID ]]; then
    touch "$RUN_DIR/freshness.stop"
    wait "$FRESH_PID" || log "freshness failed; see $RUN_DIR/freshness.txt"
  fi
  rss_line "records" >>"$RUN_DIR/rss.jsonl"
fi

# Notifications (issue 17): sockets held on the main gateway and pushes to one
# user among them; then an announcement to a whole school, timed to the 202
# and until every e-mail is at the SMTP sink deploy/local/run.sh started
# (.stack/bench/mail). Benchmarks, not tests: figures only.
if [[ $NOTIFY_RUN == 1 ]]; then
  NOTIFY_LINES="$RUN_DIR/notify.jsonl"
  : >"$NOTIFY_LINES"
  gateway_pid=$(service_pids | awk '$2 == "gateway" {print $1; exit}')
  quiesce "notify"
  log "notify: $WS_SOCKETS WebSocket connections, $WS_PUSHES pushes to one user (ulimit -n $(ulimit -n))"
  if ! (
    set -a
    # shellcheck disable=SC1091
    . "$ROOT/.stack/bench/env"
    # shellcheck disable=SC1091
    . "$ROOT/.stack/bench/secrets.env"
    set +a
    exec "$BENCH_WS" --base "$BASE" --sockets "$WS_SOCKETS" --pushes "$WS_PUSHES" \
      ${gateway_pid:+--gateway-pid "$gateway_pid"} --out "$NOTIFY_LINES"
  ) >"$RUN_DIR/notify-ws.txt" 2>&1; then
    log "bench_ws failed; see $RUN_DIR/notify-ws.txt"
  fi
  rss_line "notify_ws" >>"$RUN_DIR/rss.jsonl"
  quiesce "announcement"
  log "notify: an announcement to $ANNOUNCE_RECIPIENTS guardians (seeding them first)"
  if ! (
    set -a
    # shellcheck disable=SC1091
    . "$ROOT/.stack/bench/env"
    set +a
    OPERATOR_TOKEN="$OPERATOR_TOKEN" BENCH_NOTIFY_DB="$NOTIFY_DATABASE_URL" \
      exec "$BENCH_ANNOUNCE" --base "$BASE" --recipients "$ANNOUNCE_RECIPIENTS" \
      --settle-metrics "http://127.0.0.1:$((GATEWAY_PORT + 1002))/metrics,http://127.0.0.1:$((GATEWAY_PORT + 1003))/metrics" \
      --mail-dir "$ROOT/.stack/bench/mail" --out "$NOTIFY_LINES"
  ) >"$RUN_DIR/notify-announce.txt" 2>&1; then
    log "bench_announce failed; see $RUN_DIR/notify-announce.txt"
  fi
  rss_line "notify_announce" >>"$RUN_DIR/rss.jsonl"
  quiesce "report cards"
  log "notify: report cards for a grade of $REPORT_CARD_STUDENTS students (seeding them first)"
  if ! OPERATOR_TOKEN="$OPERATOR_TOKEN" "$BENCH_REPORT_CARDS" --base "$BASE" \
    --students "$REPORT_CARD_STUDENTS" >"$RUN_DIR/notify-report-cards.txt" 2>"$RUN_DIR/notify-report-cards.err"; then
    log "bench_report_cards failed; see $RUN_DIR/notify-report-cards.err"
  fi
  grep '^{' "$RUN_DIR/notify-report-cards.txt" >>"$NOTIFY_LINES" || true
  rss_line "notify_report_cards" >>"$RUN_DIR/rss.jsonl"
  cat "$RUN_DIR/notify-ws.txt" "$RUN_DIR/notify-announce.txt" | grep -E '^[0-9]+ sockets|^announcement' >&2 || true
fi

# Every service's own metrics (admin listeners, see deploy/local/run.sh).
for i in 0 1 2 3; do
  curl -fsS "http://127.0.0.1:$((GATEWAY_PORT + 1000 + i))/metrics" >"$RUN_DIR/metrics-$i.txt" 2>/dev/null || true
done

# --- dashboards (issue 15) ---------------------------------------------------
# Its own database, "district", in the bench Postgres, created empty every
# run (so every run starts from the same data), and its own students-svc,
# analytics-svc and two gateways (cached, uncached). The data is written by
# students-svc's bench_district example (deterministic, --seed) and
# analytics-svc's read models are built by its real rebuild from
# students-svc's export. Neither the relay nor the consumer runs here: the
# phase only reads, and the district's services must not take the main
# services' events (same Redis, same consumer group name).
DISTRICT_LINES="$RUN_DIR/district.jsonl"
: >"$DISTRICT_LINES"
if [[ $DASH_RUN == 1 ]]; then
  DW="$WORK/district"
  rm -rf "$DW"
  mkdir -p "$DW"
  DIST_GRPC=$((GRPC_BASE_PORT + 10))
  DIST_BASE="http://127.0.0.1:$((GATEWAY_PORT + 2))"
  DIST_UNCACHED_BASE="http://127.0.0.1:$((GATEWAY_PORT + 3))"
  PG_ADMIN_URL="$(sed -n 's/^PG_ADMIN_URL=//p' "$ROOT/.stack/bench/env")"
  DIST_STUDENTS_DB="$(sed -n 's/^STUDENTS_DATABASE_URL=//p' "$ROOT/.stack/bench/env" | sed 's#/schoolhouse$#/district#')"
  DIST_ANALYTICS_DB="$(sed -n 's/^ANALYTICS_DATABASE_URL=//p' "$ROOT/.stack/bench/env" | sed 's#/schoolhouse$#/district#')"
  log "dashboards: creating the district database"
  psql -q -v ON_ERROR_STOP=1 "$PG_ADMIN_URL" >/dev/null <<SQL
DROP DATABASE IF EXISTS district WITH (FORCE);
CREATE DATABASE district;
REVOKE ALL ON DATABASE district FROM PUBLIC;
GRANT CONNECT ON DATABASE district TO students_svc, analytics_svc;
-- bench_district's session helpers (pg_temp functions).
GRANT TEMPORARY ON DATABASE district TO students_svc;
SQL
  psql -q -v ON_ERROR_STOP=1 "${PG_ADMIN_URL%/postgres}/district" >/dev/null <<SQL
CREATE SCHEMA students AUTHORIZATION students_svc;
CREATE SCHEMA analytics AUTHORIZATION analytics_svc;
REVOKE ALL ON SCHEMA public FROM PUBLIC;
SQL

  # district_env: the bench stack's env and secrets, then the district's.
  district_env() {
    set -a
    # shellcheck disable=SC1091
    . "$ROOT/.stack/bench/env"
    # shellcheck disable=SC1091
    . "$ROOT/.stack/bench/secrets.env"
    set +a
    export STUDENTS_DATABASE_URL="$DIST_STUDENTS_DB" ANALYTICS_DATABASE_URL="$DIST_ANALYTICS_DB" \
      STUDENTS_URL="http://127.0.0.1:$DIST_GRPC" ANALYTICS_URL="http://127.0.0.1:$((DIST_GRPC + 1))" \
      NOTIFY_URL="http://127.0.0.1:$((GRPC_BASE_PORT + 2))" RUST_LOG=warn LOG_FORMAT=json
  }
  start_district() { # name command...
    local name=$1
    shift
    ( district_env; exec "$@" ) >"$RUN_DIR/district-$name.log" 2>&1 &
    DIST_PIDS+=($!)
  }
  wait_ready() { # url pid name
    local deadline=$((SECONDS + 60))
    until curl -fsS -o /dev/null "$1" 2>/dev/null; do
      kill -0 "$2" 2>/dev/null || die "district $3 exited; see $RUN_DIR/district-$3.log"
      ((SECONDS < deadline)) || die "district $3 not ready after 60 s"
      sleep 0.2
    done
  }
  STUDENTS_LISTEN="127.0.0.1:$DIST_GRPC" STUDENTS_ADMIN_LISTEN="127.0.0.1:$((GATEWAY_PORT + 1011))" \
    STUDENTS_RELAY_ENABLED=false STUDENTS_DRAIN_DELAY_MS=300 \
    start_district students-svc "$BIN/students-svc"
  wait_ready "http://127.0.0.1:$((GATEWAY_PORT + 1011))/metrics" "${DIST_PIDS[-1]}" students-svc
  ANALYTICS_LISTEN="127.0.0.1:$((DIST_GRPC + 1))" ANALYTICS_ADMIN_LISTEN="127.0.0.1:$((GATEWAY_PORT + 1012))" \
    ANALYTICS_CONSUMER_ENABLED=false ANALYTICS_DRAIN_DELAY_MS=300 \
    start_district analytics-svc "$BIN/analytics-svc"
  wait_ready "http://127.0.0.1:$((GATEWAY_PORT + 1012))/metrics" "${DIST_PIDS[-1]}" analytics-svc
  for g in cached uncached; do
    port=$((GATEWAY_PORT + 2)) cache=true
    [[ $g == uncached ]] && port=$((GATEWAY_PORT + 3)) cache=false
    GATEWAY_LISTEN="127.0.0.1:$port" GATEWAY_ADMIN_LISTEN="127.0.0.1:$((port + 1012))" \
      CACHE_ENABLED=$cache RATE_LIMIT_LOGIN=100000/1s RATE_LIMIT_EXPENSIVE=100000/1s \
      RATE_LIMIT_WRITE=1000000/1s RATE_LIMIT_READ=1000000/1s \
      start_district "gateway-$g" "$BIN/gateway"
    wait_ready "http://127.0.0.1:$port/readyz" "${DIST_PIDS[-1]}" "gateway-$g"
  done

  # seed_and_rebuild phase from to: writes the schools, then rebuilds each
  # one's read models with the CLI (one at a time, as an operator would).
  seed_and_rebuild() {
    local phase=$1 from=$2 to=$3 t0 t1 slug id out ms events
    log "dashboards: seeding schools $from..$to ($DISTRICT_STUDENTS students, $DISTRICT_DAYS school days each)"
    t0=$(date +%s%N)
    ( district_env; exec "$DISTRICT_SEEDER" --from "$from" --to "$to" --students "$DISTRICT_STUDENTS" \
        --days "$DISTRICT_DAYS" --seed "$DISTRICT_SEED" --out "$DW" ) >>"$RUN_DIR/district-seed.log" 2>&1 ||
      die "bench_district failed; see $RUN_DIR/district-seed.log"
    t1=$(date +%s%N)
    printf '{"kind":"seed","phase":"%s","from":%d,"to":%d,"students_per_school":%d,"days":%d,"seed":%d,"seconds":%.3f}\n' \
      "$phase" "$from" "$to" "$DISTRICT_STUDENTS" "$DISTRICT_DAYS" "$DISTRICT_SEED" \
      "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e9 }')" >>"$DISTRICT_LINES"
    # The one-school phase's rebuild is the timed figure: alone on the
    # machine. The district's schools only need their read models built:
    # BENCH_REBUILD_JOBS at a time.
    local jobs=1 running=0 failed=0
    [[ $phase == district ]] && jobs=$REBUILD_JOBS
    log "dashboards: rebuilding schools $from..$to (analytics-svc rebuild, $jobs at a time)"
    while read -r slug id; do
      n=${slug#district-}
      ((10#$n >= from && 10#$n <= to)) || continue
      rebuild_one "$phase" "$slug" "$id" &
      running=$((running + 1))
      if ((running >= jobs)); then
        wait -n || failed=1
        running=$((running - 1))
      fi
    done <"$DW/schools.txt"
    while ((running > 0)); do
      wait -n || failed=1
      running=$((running - 1))
    done
    ((failed == 0)) || die "a rebuild failed; see $RUN_DIR/district-rebuild.log"
    # Fresh planner statistics after the bulk load, as autovacuum gives them
    # a while later (and as OPERATIONS' rebuild runbook says to do after
    # seeding a deployment): measured plans are the steady state's.
    psql -qtA "${PG_ADMIN_URL%/postgres}/district" -c "ANALYZE" >/dev/null ||
      die "ANALYZE of the district database failed"
  }
  rebuild_one() { # phase slug id
    local t0 t1 out ms events
    t0=$(date +%s%N)
    out=$( district_env; "$BIN/analytics-svc" rebuild --school "$3" 2>>"$RUN_DIR/district-rebuild.log" ) || return 1
    t1=$(date +%s%N)
    echo "$2: $out" >>"$RUN_DIR/district-rebuild.log"
    events=$(sed -n 's/.* from \([0-9]*\) events in .*/\1/p' <<<"$out")
    ms=$(sed -n 's/.* events in \([0-9]*\) ms.*/\1/p' <<<"$out")
    printf '{"kind":"rebuild","phase":"%s","school":"%s","events":%s,"rebuild_ms":%s,"wall_ms":%d}\n' \
      "$1" "$2" "${events:-null}" "${ms:-null}" $(((t1 - t0) / 1000000)) >>"$DISTRICT_LINES"
  }
  measure_dashboards() { # phase
    python3 "$ROOT/bench/district_tokens.py" "$DIST_BASE" "$DW" | tee -a "$RUN_DIR/district-seed.log" >&2 ||
      die "district sign-in failed"
    for c in $DASH_CONNECTIONS; do
      for s in $DASH_SCENARIOS; do
        [[ -f $ROOT/bench/${s%_uncached}.lua ]] || die "no scenario script bench/${s%_uncached}.lua"
        if ((WARMUP > 0)); then
          run_wrk "$s" "$c" "$WARMUP" "" "$DIST_BASE" "$DIST_UNCACHED_BASE" "$DW" "$1" >/dev/null 2>&1 || true
        fi
        log "$s ($1), $c connections, ${DURATION} s"
        if ! run_wrk "$s" "$c" "$DURATION" "$LINES" "$DIST_BASE" "$DIST_UNCACHED_BASE" "$DW" "$1" \
          >"$RUN_DIR/wrk-$s-$1-$c.txt" 2>&1; then
          log "wrk failed for $s ($1) at $c connections; see $RUN_DIR/wrk-$s-$1-$c.txt"
        fi
      done
    done
  }
  seed_and_rebuild small 1 1
  measure_dashboards small
  if [[ $DISTRICT_RUN == 1 && $DISTRICT_SCHOOLS -gt 1 ]]; then
    seed_and_rebuild district 2 "$DISTRICT_SCHOOLS"
    measure_dashboards district
  fi
  psql -qtA "${PG_ADMIN_URL%/postgres}/district" -c \
    "SELECT json_build_object('kind','size','schools',(SELECT count(*) FROM students.schools),
       'students',(SELECT count(*) FROM students.students),
       'attendance_rows',(SELECT count(*) FROM students.attendance),
       'database_bytes',pg_database_size('district'))" >>"$DISTRICT_LINES" || true
  curl -fsS "http://127.0.0.1:$((GATEWAY_PORT + 1012))/metrics" >"$RUN_DIR/metrics-district-analytics.txt" 2>/dev/null || true
  rss_line "dashboards" >>"$RUN_DIR/rss.jsonl"
  stop_district
fi

# --- report ----------------------------------------------------------------
export STAMP RUN_DIR RESULTS DURATION WARMUP THREADS TIMEOUT SCHOOLS STUDENTS WORK
python3 "$ROOT/bench/report.py"
log "results: bench/results/$STAMP.json, bench/results/$STAMP.md (raw wrk output: $RUN_DIR)"
