#!/usr/bin/env bash
# `make test`: a stack of its own (never `make run`'s data), format and lint
# checks, the disallowed-dependency check, the Kubernetes manifest checks,
# then the whole test suite.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
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

set -a
# shellcheck disable=SC1091
. .stack/test/env
set +a
# Each test creates its own database; drop those of earlier runs.
psql "$PG_ADMIN_URL" -Atqc "SELECT datname FROM pg_database WHERE datname LIKE 'test\_%'" |
  while read -r db; do psql "$PG_ADMIN_URL" -qc "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)"; done

echo "== cargo test"
cargo test --workspace --all-targets
