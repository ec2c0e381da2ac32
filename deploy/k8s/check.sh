#!/usr/bin/env bash
# Offline checks of the Kubernetes manifests (part of `make test`; needs no
# cluster and no Docker): render every overlay with `kubectl kustomize`,
# validate each rendered object against the Kubernetes schemas of the oldest
# and newest versions we support (`kubernetes-validate --strict`, from PyPI),
# and lint them for security and operability (lint.py). The checks must also
# reject tests/insecure.yaml, so that a check that passes everything fails.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
K8S="$ROOT/deploy/k8s"
OUT="$ROOT/.stack/k8s"
VENV="$ROOT/.stack/tools/k8s-venv"
VERSIONS=(1.29.0 1.37.0)
VALIDATE_VERSION=1.37.0

log() { printf '[k8s] %s\n' "$*" >&2; }
die() { printf '[k8s] ERROR: %s\n' "$*" >&2; exit 1; }

if ! command -v kubectl >/dev/null; then
  if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
    log "installing kubectl"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq kubectl >/dev/null
  else
    die "kubectl is missing: run 'sudo apt-get install -y kubectl'"
  fi
fi
if [[ ! -x $VENV/bin/kubernetes-validate ]] ||
  [[ $("$VENV/bin/kubernetes-validate" --version 2>/dev/null) != *"$VALIDATE_VERSION"* ]]; then
  log "installing kubernetes-validate $VALIDATE_VERSION into $VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check "kubernetes-validate==$VALIDATE_VERSION" PyYAML
fi

# The Prometheus Operator objects of the monitoring component are checked
# against the operator's CRD schemas (a pinned npm package, crd-check/).
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
    log "installing nodejs and npm"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
  else
    die "node is missing: run 'sudo apt-get install -y nodejs npm'"
  fi
fi
CRD="$ROOT/.stack/tools/crd-check"
if ! cmp -s "$K8S/crd-check/package-lock.json" "$CRD/package-lock.json" ||
  [[ ! -d $CRD/node_modules ]]; then
  log "installing the CRD schemas (npm ci) into $CRD"
  rm -rf "$CRD" && mkdir -p "$CRD"
  cp "$K8S/crd-check/package.json" "$K8S/crd-check/package-lock.json" "$CRD/"
  (cd "$CRD" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
fi
cp "$K8S/crd-check/validate.js" "$CRD/"

mkdir -p "$OUT"
for overlay in "$K8S"/overlays/*/; do
  name=$(basename "$overlay")
  kubectl kustomize "$overlay" >"$OUT/$name.yaml"
  log "$name: $(grep -c '^kind:' "$OUT/$name.yaml") objects rendered"
  for v in "${VERSIONS[@]}"; do
    "$VENV/bin/kubernetes-validate" --strict --quiet -k "$v" "$OUT/$name.yaml" ||
      die "$name does not validate against Kubernetes $v"
  done
  "$VENV/bin/python" "$K8S/lint.py" "$OUT/$name.yaml" || die "$name fails the lint"
  if grep -q '^apiVersion: monitoring.coreos.com/' "$OUT/$name.yaml"; then
    node "$CRD/validate.js" "$OUT/$name.yaml" || die "$name: Prometheus Operator objects do not validate"
    log "$name: Prometheus Operator objects valid"
  fi
done

# The checks can fail: the insecure fixture must be refused by both.
if "$VENV/bin/kubernetes-validate" --strict --quiet "$K8S/tests/insecure.yaml" >/dev/null 2>&1; then
  die "schema validation accepted tests/insecure.yaml"
fi
if "$VENV/bin/python" "$K8S/lint.py" "$K8S/tests/insecure.yaml" >/dev/null; then
  die "lint accepted tests/insecure.yaml"
fi
if node "$CRD/validate.js" "$K8S/tests/bad-monitoring.yaml" 2>/dev/null; then
  die "the CRD check accepted tests/bad-monitoring.yaml"
fi
log "all overlays valid for Kubernetes ${VERSIONS[*]} and lint-clean"
