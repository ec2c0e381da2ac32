#!/usr/bin/env bash
# `make test`'s contract check: the OpenAPI document served at
# /api/v1/openapi.json must be valid OpenAPI 3.1 (openapi-spec-validator) and
# the server must answer exactly as it says (schemathesis, every operation,
# a fixed seed and a bounded number of examples per operation).
#
# It runs the whole system (deploy/local/run.sh, debug build, the test stack,
# its own ports), creates a school and its admin with the operator token, and
# passes the admin's bearer token on every request.
#
# By hand against `make run`: see README.md ("The API contract"); with
# BASE_URL set, this script skips starting the system and tests that one
# (OPERATOR_TOKEN must then be the running system's).
#
# Environment: OPENAPI_CHECK_PORT (gateway, default 28080; gRPC on 18051..),
# OPENAPI_EXAMPLES (per operation, default 20), OPENAPI_SEED (default 1).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
export STACK="${STACK:-test}"
WORK="$ROOT/.stack/$STACK/openapi-check"
VENV="$ROOT/.stack/tools/openapi-venv"
REQUIREMENTS="$ROOT/deploy/openapi/requirements.txt"
GATEWAY_PORT="${OPENAPI_CHECK_PORT:-28080}"
EXAMPLES="${OPENAPI_EXAMPLES:-20}"
SEED="${OPENAPI_SEED:-1}"
EXTRA=("$@")
log() { printf '[openapi] %s\n' "$*" >&2; }

# The tools, pinned, in a venv of their own (rebuilt when the pins change).
if ! cmp -s "$REQUIREMENTS" "$VENV/requirements.txt" 2>/dev/null; then
  log "installing $(tr '\n' ' ' <"$REQUIREMENTS")"
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q -r "$REQUIREMENTS"
  cp "$REQUIREMENTS" "$VENV/requirements.txt"
fi

rm -rf "$WORK" && mkdir -p "$WORK"
if [[ -n ${BASE_URL:-} ]]; then
  base="$BASE_URL"
  : "${OPERATOR_TOKEN:?set OPERATOR_TOKEN: the token in .stack/<stack>/secrets.env of the running system}"
else
  log "starting the system on 127.0.0.1:$GATEWAY_PORT"
  # shellcheck source=deploy/local/background.sh
  . "$ROOT/deploy/local/background.sh"
  base="http://127.0.0.1:$GATEWAY_PORT"
  # Limits far above what the run sends: 429s are documented, but the run
  # is to reach the handlers.
  MONITORING=0 RATE_LIMIT_LOGIN=100000/60s RATE_LIMIT_EXPENSIVE=100000/60s \
    RATE_LIMIT_WRITE=100000/60s RATE_LIMIT_READ=100000/60s \
    GATEWAY_PORT="$GATEWAY_PORT" GRPC_BASE_PORT="${OPENAPI_CHECK_GRPC_PORT:-18051}" \
    start_system "$WORK/run.log" "$base/readyz"
fi

curl -fsS "$base/api/v1/openapi.json" -o "$WORK/openapi.json"
"$VENV/bin/python" -c '
import json, sys
from openapi_spec_validator import validate
validate(json.load(open(sys.argv[1])))
' "$WORK/openapi.json"
log "the document is valid OpenAPI"

# A school of its own each run: its admin's token, a teacher, a course with
# an enrolled student and an assessment.
"$VENV/bin/python" "$ROOT/deploy/openapi/setup.py" "$base" "$OPERATOR_TOKEN" >"$WORK/setup.json"
token="$("$VENV/bin/python" -c 'import json, sys; print(json.load(open(sys.argv[1]))["token"])' "$WORK/setup.json")"
"$VENV/bin/python" "$ROOT/deploy/openapi/narrow.py" "$WORK/openapi.json" "$WORK/tested.json" "$WORK/setup.json"

log "schemathesis: seed $SEED, at most $EXAMPLES examples per operation"
started=$SECONDS
# Two runs. Negative: requests the served document forbids must be refused
# (with the documented status, content type and headers). Positive: requests
# it allows must be taken, on the copy that keeps the few rules relating two
# values (narrow.py); 409 and 422 answer a valid request in the wrong state
# (a void invoice, a user who is not a teacher), so they count as taken.
# /api/v1/ws only upgrades to a WebSocket, which schemathesis does not speak.
# Run in $WORK: schemathesis keeps a cache (.schemathesis/) where it runs.
# One worker: with two, hypothesis parses lambdas' source in two threads at
# once, which CPython 3.11 can fail with "AST constructor recursion depth
# mismatch" (seen here, on the import operation): a flaky runtime error.
st() (
  cd "$WORK"
  "$VENV/bin/schemathesis" --config-file "$ROOT/deploy/openapi/schemathesis.toml" run "$@" --url "$base" \
    --header "Authorization: Bearer $token" \
    --checks all ${OPENAPI_EXCLUDE_CHECKS:+--exclude-checks "$OPENAPI_EXCLUDE_CHECKS"} \
    --exclude-path /api/v1/ws \
    --phases "${OPENAPI_PHASES:-examples,coverage,fuzzing}" \
    --max-examples "$EXAMPLES" --seed "$SEED" --generation-database none \
    --workers 1 --request-timeout 10 --no-color --report junit --report-dir "$WORK" \
    ${EXTRA[@]+"${EXTRA[@]}"}
)
log "negative cases, on the served document"
# The dashboards take no parameter but If-None-Match, whose every value is
# valid (a malformed one is ignored: a full answer, never a wrong 304), so
# there is no negative case to make: hypothesis would fail its filter health
# check looking for one. They are tested in the positive run.
st "$WORK/openapi.json" --mode negative --exclude-checks positive_data_acceptance \
  --exclude-path /api/v1/dashboards/school --exclude-path /api/v1/dashboards/teacher
log "positive cases, on the tested copy"
# A valid logout would end the session whose token every later request
# carries, and a valid password change needs the admin's password (then ends
# that session too): both are exercised by gateway/tests/api/sessions.rs.
st "$WORK/tested.json" --mode positive --exclude-checks negative_data_rejection \
  --exclude-path /api/v1/auth/logout --exclude-path /api/v1/auth/password
log "schemathesis passed in $((SECONDS - started)) s"
