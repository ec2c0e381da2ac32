#!/usr/bin/env bash
# One database, one login role and schema per service, nothing for PUBLIC:
# the layout deploy/local/stack.sh makes, for the postgres image's
# /docker-entrypoint-initdb.d (docker-compose, the k8s dev overlay).
# Passwords come from STUDENTS_DB_PASSWORD, ANALYTICS_DB_PASSWORD,
# NOTIFY_DB_PASSWORD; the database from POSTGRES_DB.
set -euo pipefail
: "${POSTGRES_DB:?}" "${STUDENTS_DB_PASSWORD:?}" "${ANALYTICS_DB_PASSWORD:?}" "${NOTIFY_DB_PASSWORD:?}"
for pair in students_svc:students:$STUDENTS_DB_PASSWORD analytics_svc:analytics:$ANALYTICS_DB_PASSWORD \
            notify_svc:notify:$NOTIFY_DB_PASSWORD; do
  IFS=: read -r role schema password <<<"$pair"
  psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
    -v role="$role" -v schema="$schema" -v password="$password" <<'SQL'
SELECT format('CREATE ROLE %I LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD %L', :'role', :'password')
  WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'role')\gexec
SELECT format('ALTER ROLE %I SET search_path = %I', :'role', :'schema')\gexec
SELECT format('CREATE SCHEMA IF NOT EXISTS %I AUTHORIZATION %I', :'schema', :'role')\gexec
SELECT format('GRANT CONNECT ON DATABASE %I TO %I', current_database(), :'role')\gexec
SQL
done
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" <<'SQL'
SELECT format('REVOKE ALL ON DATABASE %I FROM PUBLIC', current_database())\gexec
REVOKE ALL ON SCHEMA public FROM PUBLIC;
SQL
