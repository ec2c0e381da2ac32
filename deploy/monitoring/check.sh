#!/usr/bin/env bash
# `make test`'s monitoring check, against a real Prometheus:
#  1. the alert rules (extracted from the PrometheusRule) pass
#     `promtool check rules` and their unit tests (tests/*.test.yml: each
#     alert fires from a synthetic series and stays silent on a healthy one);
#  2. the whole system runs (`MONITORING=1 deploy/local/run.sh` on the test
#     stack, debug build, its own ports) with Prometheus scraping it, a
#     little traffic goes through the API, and every rule expression and
#     every dashboard panel query must parse, name only metrics that exist,
#     and (panels, recording rules) return series (queries.py);
#  3. the checker must fail on a dashboard that names a missing metric.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
export STACK="${STACK:-test}"
WORK="$ROOT/.stack/$STACK/monitoring-check"
VENV="$ROOT/.stack/tools/monitoring-venv"
GATEWAY_PORT="${MONITORING_CHECK_PORT:-18080}"
PROM_PORT=$((GATEWAY_PORT + 10))
log() { printf '[monitoring] %s\n' "$*" >&2; }

# A fresh Prometheus each time: old samples would answer before new scrapes.
rm -rf "$WORK" "$ROOT/.stack/$STACK/prometheus" && mkdir -p "$WORK"
# Prometheus, promtool, the venv and rules.yml (the ports do not matter here).
"$ROOT/deploy/monitoring/prepare.sh" "$WORK/rules-only" 127.0.0.1:1 127.0.0.1:2 127.0.0.1:3 127.0.0.1:4
promtool check rules "$WORK/rules-only/rules.yml"
cp "$ROOT"/deploy/monitoring/tests/*.test.yml "$WORK/rules-only/"
(cd "$WORK/rules-only" && promtool test rules ./*.test.yml)

log "starting the system with Prometheus on 127.0.0.1:$PROM_PORT"
# shellcheck source=deploy/local/background.sh
. "$ROOT/deploy/local/background.sh"
base="http://127.0.0.1:$GATEWAY_PORT"
prom="http://127.0.0.1:$PROM_PORT"
MONITORING=1 GATEWAY_PORT="$GATEWAY_PORT" GRPC_BASE_PORT=$((GATEWAY_PORT - 10000)) \
  PROMETHEUS_PORT="$PROM_PORT" start_system "$WORK/run.log" "$base/readyz" "$prom/-/ready"
"$VENV/bin/python" "$ROOT/deploy/monitoring/traffic.py" "$base" "$OPERATOR_TOKEN"

# Until every target is up, the notice's jobs have run, and the recording
# rules (30 s interval) have been evaluated after the traffic.
has() { [[ $(curl -fsS "$prom/api/v1/query" --data-urlencode "query=$1") != *'"result":[]'* ]]; }
awaited=('count(up == 1) == 4' 'sum(job_duration_seconds_count) > 0'
  'sum(event_consumer_lag_seconds_count) > 0' 'count(class:schoolhouse_http_errors:ratio_rate5m)')
deadline=$((SECONDS + 120))
for query in "${awaited[@]}"; do
  until has "$query"; do
    ((SECONDS < deadline)) || { log "still no result for: $query"; break; }
    sleep 1
  done
done

boards=("$ROOT"/deploy/k8s/components/monitoring/dashboards/*.json)
"$VENV/bin/python" "$ROOT/deploy/monitoring/queries.py" "$prom" "$WORK/rules-only/rules.yml" "${boards[@]}"

# The checker itself must be able to fail.
overview="$ROOT/deploy/k8s/components/monitoring/dashboards/schoolhouse-overview.json"
grep -q websocket_connections "$overview"
sed 's/websocket_connections/websocket_connections_that_do_not_exist/' "$overview" >"$WORK/broken.json"
if QUERIES_WAIT=0 "$VENV/bin/python" "$ROOT/deploy/monitoring/queries.py" "$prom" "$WORK/rules-only/rules.yml" "$WORK/broken.json" 2>/dev/null; then
  log "queries.py accepted a dashboard naming a missing metric"
  exit 1
fi
log "rules, rule tests, dashboards: checked against a real Prometheus"
