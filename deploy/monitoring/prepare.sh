#!/usr/bin/env bash
# Prepares a Prometheus directory for a local run:
#   deploy/monitoring/prepare.sh DIR GATEWAY_ADMIN STUDENTS_ADMIN ANALYTICS_ADMIN NOTIFY_ADMIN
# DIR/prometheus.yml is deploy/monitoring/prometheus.yml with these
# host:port targets; DIR/rules.yml holds the rule groups of the PrometheusRule
# (deploy/k8s/components/monitoring/prometheus-rules.yaml), the one source of
# the alerts. Installs Debian's prometheus and a venv with PyYAML if missing.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
DIR="$1"; shift
(( $# == 4 )) || { echo "usage: $0 DIR GATEWAY STUDENTS ANALYTICS NOTIFY (host:port each)" >&2; exit 2; }
VENV="$ROOT/.stack/tools/monitoring-venv"

if ! command -v prometheus >/dev/null || ! command -v promtool >/dev/null; then
  if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
    echo "[monitoring] installing prometheus (apt-get)" >&2
    apt-get -o DPkg::Lock::Timeout=600 update -qq
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq prometheus >/dev/null
  else
    echo "prometheus is missing: run 'sudo apt-get install -y prometheus'" >&2
    exit 1
  fi
fi
if [[ ! -x $VENV/bin/python ]] || ! "$VENV/bin/python" -c 'import yaml' 2>/dev/null; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check "PyYAML==6.0.2"
fi

mkdir -p "$DIR"
"$VENV/bin/python" "$ROOT/deploy/monitoring/rules.py" \
  "$ROOT/deploy/k8s/components/monitoring/prometheus-rules.yaml" >"$DIR/rules.yml"
sed -e "s/127.0.0.1:9080/$1/" -e "s/127.0.0.1:9081/$2/" -e "s/127.0.0.1:9082/$3/" -e "s/127.0.0.1:9083/$4/" \
  "$ROOT/deploy/monitoring/prometheus.yml" >"$DIR/prometheus.yml"
promtool check config "$DIR/prometheus.yml" >/dev/null
