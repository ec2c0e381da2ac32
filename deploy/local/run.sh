#!/usr/bin/env bash
# `make run`: local stack up, release build, the four services started, a demo
# school seeded; Ctrl-C (or SIGTERM) stops every service cleanly.
#
# Environment: STACK (run | bench, default run), GATEWAY_PORT (8080),
# GRPC_BASE_PORT (50051: students, +1 analytics, +2 notify), GATEWAY_ADMIN_LISTEN
# (127.0.0.1:GATEWAY_PORT+1000, Prometheus /metrics; the services use +1001..+1003),
# SEED_DEMO (1: the demo school, deploy/local/seed-demo.py), CONSOLE_DIR
# (web/: the web console the gateway serves at /), PROFILE (release | debug: the build to run),
# MONITORING (0; 1: also a Prometheus scraping every service, with the alert
# rules, at PROMETHEUS_PORT, default GATEWAY_PORT+10),
# SMTP_SINK_PORT (GATEWAY_PORT+1100: the local SMTP sink notify-svc mails to;
# the mails are written to .stack/<stack>/mail/*.eml),
# RUST_LOG, LOG_FORMAT (pretty).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
export STACK="${STACK:-run}"
GATEWAY_PORT="${GATEWAY_PORT:-8080}"
GRPC_BASE_PORT="${GRPC_BASE_PORT:-50051}"
SEED_DEMO="${SEED_DEMO:-1}"
PROFILE="${PROFILE:-release}"
MONITORING="${MONITORING:-0}"
PROMETHEUS_PORT="${PROMETHEUS_PORT:-$((GATEWAY_PORT + 10))}"
STATE="$ROOT/.stack/$STACK"
LOGS="$STATE/logs"

# curl for the readiness wait, python3 for the demo seed.
need_tools() {
  command -v curl >/dev/null && command -v python3 >/dev/null && return
  if [[ $(id -u) == 0 ]]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq curl python3 >/dev/null
  else
    echo "curl or python3 is missing: run 'sudo apt-get install -y curl python3'" >&2; exit 1
  fi
}
need_tools

"$ROOT/deploy/local/stack.sh" up
case "$PROFILE" in
  release) (cd "$ROOT" && cargo build --release --bins && cargo build --release -p notify-svc --example smtp-sink) ;;
  debug) (cd "$ROOT" && cargo build --bins && cargo build -p notify-svc --example smtp-sink) ;;
  *) echo "PROFILE must be release or debug" >&2; exit 2 ;;
esac

set -a
# shellcheck disable=SC1091
. "$STATE/env"
set +a
# Secrets are generated once per stack and kept, so tokens survive restarts;
# one missing from an older stack's file is added.
secret() { od -An -tx1 -N32 /dev/urandom | tr -d ' \n'; }
(
  umask 077
  touch "$STATE/secrets.env"
  for name in JWT_SECRET OPERATOR_TOKEN SERVICE_AUTH_KEY; do
    grep -q "^$name=" "$STATE/secrets.env" || echo "$name=$(secret)" >>"$STATE/secrets.env"
  done
)
set -a
# shellcheck disable=SC1091
. "$STATE/secrets.env"
set +a

export LOG_FORMAT="${LOG_FORMAT:-pretty}"
export STUDENTS_LISTEN="127.0.0.1:$GRPC_BASE_PORT"
export ANALYTICS_LISTEN="127.0.0.1:$((GRPC_BASE_PORT + 1))"
export NOTIFY_LISTEN="127.0.0.1:$((GRPC_BASE_PORT + 2))"
export STUDENTS_URL="http://$STUDENTS_LISTEN"
export NOTIFY_URL="http://$NOTIFY_LISTEN"
export ANALYTICS_URL="http://$ANALYTICS_LISTEN"
export GATEWAY_LISTEN="127.0.0.1:$GATEWAY_PORT"
# Admin listeners (Prometheus /metrics): GATEWAY_PORT+1000 for the gateway,
# +1001..+1003 for students, analytics, notify (9080-9083 for `make run`).
export GATEWAY_ADMIN_LISTEN="${GATEWAY_ADMIN_LISTEN:-127.0.0.1:$((GATEWAY_PORT + 1000))}"
export STUDENTS_ADMIN_LISTEN="127.0.0.1:$((GATEWAY_PORT + 1001))"
export ANALYTICS_ADMIN_LISTEN="127.0.0.1:$((GATEWAY_PORT + 1002))"
export NOTIFY_ADMIN_LISTEN="127.0.0.1:$((GATEWAY_PORT + 1003))"
# One local replica: nobody to hand over to, so Ctrl-C need not wait 5 s.
export STUDENTS_DRAIN_DELAY_MS="${STUDENTS_DRAIN_DELAY_MS:-300}"
export NOTIFY_DRAIN_DELAY_MS="${NOTIFY_DRAIN_DELAY_MS:-300}"
export ANALYTICS_DRAIN_DELAY_MS="${ANALYTICS_DRAIN_DELAY_MS:-300}"
# notify-svc and analytics-svc consume the event streams (REDIS_URL, from the
# stack env) under stable consumer names, so a restart picks up its own
# pending entries. analytics-svc also bumps the gateway's dashboard cache
# generations in that Redis, and reads students-svc's export (STUDENTS_URL)
# for a rebuild.
export NOTIFY_CONSUMER_NAME="${NOTIFY_CONSUMER_NAME:-notify-local}"
# notify-svc's e-mail goes to a local SMTP sink (notify-svc/examples/
# smtp-sink.rs) that writes every mail to $MAIL_DIR as an .eml file.
MAIL_DIR="$STATE/mail"
export NOTIFY_SMTP_HOST="${NOTIFY_SMTP_HOST:-127.0.0.1}"
export NOTIFY_SMTP_PORT="${NOTIFY_SMTP_PORT:-${SMTP_SINK_PORT:-$((GATEWAY_PORT + 1100))}}"
export NOTIFY_SMTP_SECURITY="${NOTIFY_SMTP_SECURITY:-none}"
export NOTIFY_SMTP_FROM="${NOTIFY_SMTP_FROM:-Schoolhouse <no-reply@schoolhouse.localhost>}"
export ANALYTICS_CONSUMER_NAME="${ANALYTICS_CONSUMER_NAME:-analytics-local}"
# The web console (web/) is served by the gateway on its own origin; its
# WebSocket sends that Origin, so it is on the allow-list too.
export CONSOLE_DIR="${CONSOLE_DIR:-$ROOT/web}"
export CORS_ALLOWED_ORIGINS="${CORS_ALLOWED_ORIGINS:-http://localhost:3000,http://127.0.0.1:$GATEWAY_PORT,http://localhost:$GATEWAY_PORT}"

# mimalloc (the gateway's allocator) commits its 1 GiB arena eagerly by
# default, and what it commits stays resident: 10,000 WebSockets held the
# gateway at 304 MiB with it, 203 MiB without (bench_ws). The container image
# sets the same.
export MIMALLOC_ARENA_EAGER_COMMIT="${MIMALLOC_ARENA_EAGER_COMMIT:-0}"

mkdir -p "$LOGS"
pids=()
stop_all() {
  trap - INT TERM EXIT
  if ((${#pids[@]})); then
    echo "stopping services..."
    kill -TERM "${pids[@]}" 2>/dev/null || true
    wait "${pids[@]}" 2>/dev/null || true
  fi
}
trap stop_all EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [[ $NOTIFY_SMTP_HOST == 127.0.0.1 && $NOTIFY_SMTP_SECURITY == none ]]; then
  "$ROOT/target/$PROFILE/examples/smtp-sink" "127.0.0.1:$NOTIFY_SMTP_PORT" "$MAIL_DIR" \
    >"$LOGS/smtp-sink.log" 2>&1 &
  pids+=($!)
fi
for svc in students-svc analytics-svc notify-svc gateway; do
  "$ROOT/target/$PROFILE/$svc" >"$LOGS/$svc.log" 2>&1 &
  pids+=($!)
done
if [[ $MONITORING == 1 ]]; then
  # Scrapes the four admin listeners every 5 s and evaluates the alert rules
  # (extracted from the PrometheusRule the cluster uses).
  prom="$STATE/prometheus"
  "$ROOT/deploy/monitoring/prepare.sh" "$prom" "$GATEWAY_ADMIN_LISTEN" "$STUDENTS_ADMIN_LISTEN" \
    "$ANALYTICS_ADMIN_LISTEN" "$NOTIFY_ADMIN_LISTEN"
  prometheus --config.file="$prom/prometheus.yml" --storage.tsdb.path="$prom/data" \
    --web.listen-address="127.0.0.1:$PROMETHEUS_PORT" >"$LOGS/prometheus.log" 2>&1 &
  pids+=($!)
fi

base="http://$GATEWAY_LISTEN"
deadline=$((SECONDS + 60))
until curl -fsS "$base/readyz" >/dev/null 2>&1; do
  for p in "${pids[@]}"; do
    kill -0 "$p" 2>/dev/null || { echo "a service exited at start-up; see $LOGS" >&2; tail -n 20 "$LOGS"/*.log >&2; exit 1; }
  done
  ((SECONDS < deadline)) || { echo "gateway not ready after 60 s; see $LOGS" >&2; exit 1; }
  sleep 0.2
done

monitoring_line=""
if [[ $MONITORING == 1 ]]; then
  monitoring_line="  prometheus   http://127.0.0.1:$PROMETHEUS_PORT  (alerts: /alerts; rules from deploy/k8s/components/monitoring)
"
fi
if [[ $SEED_DEMO == 1 ]]; then
  admin_email="admin@demo.school"
  admin_password="demo-password-123"
  curl -sS -o /dev/null -X POST "$base/api/v1/schools" \
    -H "Authorization: Bearer $OPERATOR_TOKEN" -H 'Content-Type: application/json' \
    -d "{\"name\":\"Demo High School\",\"slug\":\"demo\",\"admin\":{\"email\":\"$admin_email\",\"password\":\"$admin_password\",\"full_name\":\"Demo Admin\"}}"
  token=$(curl -sS -X POST "$base/api/v1/auth/login" -H 'Content-Type: application/json' \
    -d "{\"school\":\"demo\",\"email\":\"$admin_email\",\"password\":\"$admin_password\"}" |
    sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p')
  given=(Ada Ben Chloe Dev Esi Farid Grace Hugo Ines Jun)
  family=(Okafor Lindqvist Moreau Patel Mensah Haddad Kim Silva Rossi Tanaka)
  for i in $(seq 0 29); do
    curl -sS -o /dev/null -X POST "$base/api/v1/students" \
      -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
      -d "{\"admission_no\":\"D-$((1000 + i))\",\"given_name\":\"${given[i % 10]}\",\"family_name\":\"${family[(i / 3) % 10]}\",\"date_of_birth\":\"201$((i % 8))-0$((i % 9 + 1))-1$((i % 9))\",\"grade_level\":$((i % 13)),\"section\":\"$(((i % 2)) && echo A || echo B)\"}"
  done
  # A teacher, a guardian with two children, courses with a timetable, the
  # last school week of attendance, published grades and invoices.
  python3 "$ROOT/deploy/local/seed-demo.py" "$base" "$token" "$admin_password"
  cat <<INFO

Schoolhouse is running.
  console      $base/   (web console: sign in with a login below)
  API          $base/api/v1   (OpenAPI: $base/api/v1/openapi.json)
  school slug  demo
  admin login  $admin_email / $admin_password
  teacher      teacher@demo.school / $admin_password
  guardian     guardian@demo.school / $admin_password   (two children)
  try          curl -s -X POST $base/api/v1/auth/login -H 'Content-Type: application/json' \\
                 -d '{"school":"demo","email":"$admin_email","password":"$admin_password"}'
  metrics      http://$GATEWAY_ADMIN_LISTEN/metrics  (admin listeners, not public;
               services: $STUDENTS_ADMIN_LISTEN, $ANALYTICS_ADMIN_LISTEN, $NOTIFY_ADMIN_LISTEN)
  mail         $MAIL_DIR/*.eml   (notify-svc's e-mails, caught by the local SMTP sink
               at 127.0.0.1:$NOTIFY_SMTP_PORT)
${monitoring_line}  logs         $LOGS/
Press Ctrl-C to stop.
INFO
else
  echo "Schoolhouse is running at $base (logs in $LOGS, e-mails in $MAIL_DIR). Ctrl-C stops it."
  if [[ $MONITORING == 1 ]]; then echo "Prometheus: http://127.0.0.1:$PROMETHEUS_PORT"; fi
fi

# Stop everything as soon as any one service exits.
wait -n "${pids[@]}" || true
echo "a service exited; see $LOGS" >&2
exit 1
