#!/usr/bin/env bash
# Private local Postgres + Redis stack for development and tests.
#
# Usage: deploy/local/stack.sh up|down|status|env
#
# Environment:
#   STACK       run (default) | test | bench | clock -> state dir <repo>/.stack/$STACK/ and port set
#   REDIS_MODE  standalone (default) | cluster | both   (only used by `up`)
#   PG_PORT, REDIS_PORT, REDIS_CLUSTER_BASE_PORT         override the port set
#
#   STACK=run : Postgres 55432, Redis 56379, Redis cluster 57000-57005
#   STACK=test: Postgres 55532, Redis 56479, Redis cluster 57100-57105 (fsync off)
#   STACK=bench: Postgres 55632, Redis 56579, Redis cluster 57200-57205
#   STACK=clock: Postgres 55732, Redis 56679, Redis cluster 57300-57305 (fsync
#                off; `TEST_CLOCK=... make test` starts it under libfaketime)
#   Cluster bus ports: port+10000, or port-10000 when that would exceed 65535
#   (so 47000-47005 / 47100-47105 for the default sets).
#
# `up` is idempotent and also recovers stacks whose processes died.
# `down` stops everything this script started for $STACK (data dirs are kept).
# `env` prints .stack/$STACK/env (KEY=VALUE lines) if the stack is up.
set -euo pipefail

SCRIPT_PATH="$(readlink -f "${BASH_SOURCE[0]}")"
SCRIPT_DIR="$(dirname "$SCRIPT_PATH")"
REPO_ROOT="$(cd -P "$SCRIPT_DIR/../.." && pwd -P)"

STACK="${STACK:-run}"
REDIS_MODE="${REDIS_MODE:-standalone}"

log() { printf '[stack:%s] %s\n' "$STACK" "$*" >&2; }
die() { printf '[stack:%s] ERROR: %s\n' "$STACK" "$*" >&2; exit 1; }

case "$STACK" in
  run)  def_pg=55432; def_redis=56379; def_cluster=57000 ;;
  test) def_pg=55532; def_redis=56479; def_cluster=57100 ;;
  bench) def_pg=55632; def_redis=56579; def_cluster=57200 ;;
  clock) def_pg=55732; def_redis=56679; def_cluster=57300 ;;
  *) die "STACK must be 'run', 'test', 'bench' or 'clock' (got '$STACK')" ;;
esac
case "$REDIS_MODE" in
  standalone|cluster|both) ;;
  *) die "REDIS_MODE must be 'standalone', 'cluster' or 'both' (got '$REDIS_MODE')" ;;
esac

PG_PORT="${PG_PORT:-$def_pg}"
REDIS_PORT="${REDIS_PORT:-$def_redis}"
REDIS_CLUSTER_BASE_PORT="${REDIS_CLUSTER_BASE_PORT:-$def_cluster}"
for _v in PG_PORT REDIS_PORT REDIS_CLUSTER_BASE_PORT; do
  if ! [[ ${!_v} =~ ^[0-9]+$ ]] || (( ${!_v} < 1 || ${!_v} > 65529 )); then
    die "$_v must be a port number (got '${!_v}')"
  fi
done

STATE_DIR="$REPO_ROOT/.stack/$STACK"
PG_DIR="$STATE_DIR/pg"
PG_DATA="$PG_DIR/data"
PG_SOCK="$PG_DIR/sock"
PG_LOG="$PG_DIR/postgres.log"
REDIS_DIR="$STATE_DIR/redis"
ENV_FILE="$STATE_DIR/env"

PG_ADMIN_PASSWORD=schoolhouse_admin
PG_DB=schoolhouse
# role:password:schema
PG_ROLES=(students_svc:students_svc_dev:students analytics_svc:analytics_svc_dev:analytics notify_svc:notify_svc_dev:notify)

PGBIN=""
PG_CONF_CHANGED=0

is_root() { [[ $EUID -eq 0 ]]; }

# Poll "$@" every 0.1s until it succeeds or $1 seconds have passed.
wait_until() {
  local timeout=$1; shift
  local deadline=$((SECONDS + timeout))
  until "$@"; do
    (( SECONDS < deadline )) || return 1
    sleep 0.1
  done
}

# True if $1 is a live (non-zombie) process. Some container inits reap
# zombies only every second or so; a zombie must count as dead.
pid_alive() {
  local stat
  [[ $1 =~ ^[0-9]+$ ]] || return 1
  stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
  stat="${stat##*) }"
  [[ ${stat:0:1} != Z ]]
}

pid_gone() { ! [[ -e /proc/$1 ]]; }

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

cluster_ports() {
  local i
  for i in 0 1 2 3 4 5; do echo $((REDIS_CLUSTER_BASE_PORT + i)); done
}

# ---------------------------------------------------------------- packages

# Echo the bin dir of the Postgres to use: the version of an existing data
# dir if present, else the highest installed version. Empty if none.
pg_bin_dir() {
  local want="" f v versions=()
  [[ -f $PG_DATA/PG_VERSION ]] && want="$(<"$PG_DATA/PG_VERSION")"
  if [[ -n $want && -x /usr/lib/postgresql/$want/bin/pg_ctl ]]; then
    echo "/usr/lib/postgresql/$want/bin"; return 0
  fi
  for f in /usr/lib/postgresql/*/bin/pg_ctl; do
    [[ -x $f ]] || continue
    v="${f#/usr/lib/postgresql/}"; versions+=("${v%%/*}")
  done
  (( ${#versions[@]} )) || return 0
  v="$(printf '%s\n' "${versions[@]}" | sort -V | tail -n1)"
  if [[ -n $want && $want != "$v" ]]; then
    die "data dir $PG_DATA is Postgres $want but only $v binaries are installed (remove the data dir or install postgresql-$want)"
  fi
  echo "/usr/lib/postgresql/$v/bin"
}

ensure_packages() {
  local need=()
  [[ -n $(pg_bin_dir) ]] || need+=(postgresql)
  if ! command -v redis-server >/dev/null || ! command -v redis-cli >/dev/null; then
    need+=(redis-server)
  fi
  if (( ${#need[@]} )); then
    if ! is_root; then
      log "missing packages: ${need[*]}. Install them with:"
      echo "sudo apt-get update && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y ${need[*]}" >&2
      exit 1
    fi
    log "installing ${need[*]} (apt-get) ..."
    export DEBIAN_FRONTEND=noninteractive
    apt-get -o DPkg::Lock::Timeout=600 update -q >&2
    apt-get -o DPkg::Lock::Timeout=600 install -y -q "${need[@]}" >&2
  fi
  PGBIN="$(pg_bin_dir)"
  [[ -n $PGBIN ]] || die "no /usr/lib/postgresql/*/bin/pg_ctl found after install"
}

# ---------------------------------------------------------------- postgres

# Run a Postgres server-side binary: as the postgres user when root
# (initdb/postgres refuse to run as root), else as the current user.
as_pg() {
  if is_root; then
    (cd / && runuser -u postgres -- "$@")
  else
    "$@"
  fi
}

# `TEST_CLOCK=... make test` moves Postgres' clock with libfaketime:
# PG_FAKETIME is the offset ("+34000000s"), STACK=clock only. Postgres only:
# Redis' jemalloc reads the clock while libfaketime initialises and hangs,
# and Redis' clock is only ever compared with itself (TTLs, stream ids, the
# rate limiter's TIME).
FAKETIME_LIB=/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1
pg_server() {
  if [[ -n ${PG_FAKETIME:-} ]]; then
    [[ $STACK == clock ]] || die "PG_FAKETIME is for STACK=clock only"
    as_pg env LD_PRELOAD="$FAKETIME_LIB" FAKETIME="$PG_FAKETIME" DONT_FAKE_MONOTONIC=1 "$@"
  else
    as_pg "$@"
  fi
}

pg_pid() { sed -n 1p "$PG_DATA/postmaster.pid" 2>/dev/null || true; }
pg_running_port() { sed -n 4p "$PG_DATA/postmaster.pid" 2>/dev/null || true; }

pg_running() {
  [[ -n $PGBIN && -f $PG_DATA/PG_VERSION ]] || return 1
  as_pg "$PGBIN/pg_ctl" status -D "$PG_DATA" >/dev/null 2>&1 || return 1
  pid_alive "$(pg_pid)"
}

psql_admin() {
  PGOPTIONS='-c client_min_messages=warning' "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PG_SOCK" -p "$PG_PORT" -U postgres "$@"
}

# The postgres user must be able to traverse every ancestor of $PG_DIR
# (the repo may live under e.g. a 0700 mktemp dir).
ensure_pg_traversable() {
  local d="$PG_DIR" dirs=() i
  while [[ $d != / ]]; do d="$(dirname "$d")"; dirs+=("$d"); done
  for (( i = ${#dirs[@]} - 1; i >= 0; i-- )); do
    d="${dirs[i]}"
    if ! runuser -u postgres -- test -x "$d" 2>/dev/null; then
      chmod o+x "$d"
      log "chmod o+x $d (postgres user must traverse it)"
    fi
  done
}

pg_init() {
  mkdir -p "$PG_DIR" "$PG_SOCK"
  chmod 755 "$PG_SOCK"
  if is_root; then
    id postgres >/dev/null 2>&1 || die "running as root but there is no 'postgres' system user"
    ensure_pg_traversable
    chown postgres: "$PG_DIR" "$PG_SOCK"
  fi
  (( ${#PG_SOCK} + 20 < 107 )) || die "socket dir path too long for a unix socket: $PG_SOCK"

  [[ -f $PG_DATA/PG_VERSION ]] && return 0

  log "initdb $PG_DATA"
  rm -rf "$PG_DATA"   # leftovers of a failed initdb
  local pwfile="$PG_DIR/.pwfile" loc ok=0
  ( umask 077; printf '%s\n' "$PG_ADMIN_PASSWORD" >"$pwfile" )
  is_root && chown postgres: "$pwfile"
  for loc in C.UTF-8 C; do
    if as_pg "$PGBIN/initdb" -D "$PG_DATA" --auth-local=trust --auth-host=scram-sha-256 \
         --username=postgres --pwfile="$pwfile" --encoding=UTF8 --locale="$loc" \
         >"$PG_DIR/initdb.log" 2>&1; then
      ok=1; break
    fi
    log "initdb with --locale=$loc failed; see $PG_DIR/initdb.log"
    rm -rf "$PG_DATA"
  done
  rm -f "$pwfile"
  (( ok )) || { tail -n 20 "$PG_DIR/initdb.log" >&2; die "initdb failed"; }
}

# Rewrite the managed block at the end of postgresql.conf; sets PG_CONF_CHANGED.
pg_write_conf() {
  local conf="$PG_DATA/postgresql.conf" block old new
  block="# >>> stack.sh managed block (rewritten by deploy/local/stack.sh up) >>>
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$PG_SOCK'
max_connections = 400
shared_buffers = 256MB"
  if [[ $STACK == bench ]]; then
    block+="
# per-statement timings for benchmark analysis (pg_stat_statements)
shared_preload_libraries = 'pg_stat_statements'"
  fi
  if [[ $STACK == test || $STACK == clock ]]; then
    block+="
# throwaway test data: trade durability for speed
fsync = off
synchronous_commit = off
full_page_writes = off"
  fi
  block+="
# <<< stack.sh managed block <<<"
  old="$(cat "$conf")"
  new="$(sed '/^# >>> stack.sh managed block/,/^# <<< stack.sh managed block/d' "$conf")
$block"
  if [[ $old != "$new" ]]; then
    printf '%s\n' "$new" >"$conf"   # truncates in place: keeps owner/mode
    PG_CONF_CHANGED=1
  fi
}

pg_start() {
  if pg_running; then
    if (( PG_CONF_CHANGED )) || [[ $(pg_running_port) != "$PG_PORT" ]]; then
      if [[ $(pg_running_port) != "$PG_PORT" ]] && port_in_use "$PG_PORT"; then
        die "cannot move postgres to port $PG_PORT: already in use by another process"
      fi
      log "postgres config changed: restarting"
      pg_server "$PGBIN/pg_ctl" restart -D "$PG_DATA" -m fast -w -t 60 -l "$PG_LOG" >/dev/null 9>&- \
        || { tail -n 20 "$PG_LOG" >&2; die "postgres restart failed (log: $PG_LOG)"; }
    fi
    return 0
  fi
  port_in_use "$PG_PORT" && die "port $PG_PORT is already in use by another process (set PG_PORT=...)"
  log "starting postgres on 127.0.0.1:$PG_PORT"
  local attempt old_pid
  old_pid="$(pg_pid)"
  if [[ $old_pid =~ ^[0-9]+$ ]] && ! pid_gone "$old_pid"; then
    # crashed postmaster still a zombie: postgres would refuse its lock file
    wait_until 10 pid_gone "$old_pid" || true
  fi
  for attempt in 1 2 3; do
    # A postmaster killed with -9 can leave backends around for a moment; retry.
    if pg_server "$PGBIN/pg_ctl" start -D "$PG_DATA" -w -t 60 -l "$PG_LOG" >"$PG_DIR/pg_ctl.out" 2>&1 9>&-; then
      return 0
    fi
    log "postgres start attempt $attempt failed: $(tail -n 3 "$PG_DIR/pg_ctl.out" | tr '\n' ' ')"
    sleep 1
  done
  tail -n 20 "$PG_LOG" >&2
  die "postgres failed to start (log: $PG_LOG)"
}

pg_provision() {
  local r name pw schema values="" schemas_sql="" grant_to=""
  for r in "${PG_ROLES[@]}"; do
    IFS=: read -r name pw schema <<<"$r"
    values+="${values:+, }('$name', '$pw', '$schema')"
    grant_to+="${grant_to:+, }$name"
    schemas_sql+="CREATE SCHEMA IF NOT EXISTS $schema AUTHORIZATION $name;
ALTER SCHEMA $schema OWNER TO $name;
"
  done

  psql_admin -d postgres <<SQL
SELECT 'CREATE DATABASE $PG_DB' WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = '$PG_DB')\gexec
ALTER ROLE postgres PASSWORD '$PG_ADMIN_PASSWORD';
DO \$\$
DECLARE r record;
BEGIN
  FOR r IN SELECT * FROM (VALUES $values) AS t(name, pw, schema) LOOP
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r.name) THEN
      EXECUTE format('CREATE ROLE %I LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD %L', r.name, r.pw);
    ELSE
      EXECUTE format('ALTER ROLE %I LOGIN PASSWORD %L', r.name, r.pw);
    END IF;
    EXECUTE format('ALTER ROLE %I SET search_path = %I', r.name, r.schema);
  END LOOP;
END
\$\$;
REVOKE ALL ON DATABASE $PG_DB FROM PUBLIC;
GRANT CONNECT ON DATABASE $PG_DB TO $grant_to;
SQL

  psql_admin -d "$PG_DB" <<SQL
${schemas_sql}REVOKE ALL ON SCHEMA public FROM PUBLIC;
SQL
}

pg_stop() {
  [[ -f $PG_DATA/PG_VERSION ]] || return 0
  PGBIN="${PGBIN:-$(pg_bin_dir)}"
  if pg_running; then
    log "stopping postgres ($PG_DATA)"
    as_pg "$PGBIN/pg_ctl" stop -D "$PG_DATA" -m fast -w -t 60 >/dev/null
  fi
}

# ---------------------------------------------------------------- redis

rcli() { local port=$1; shift; timeout 3 redis-cli -h 127.0.0.1 -p "$port" "$@"; }

redis_ping() { [[ $(rcli "$1" ping 2>/dev/null) == PONG ]]; }

# A redis on $port counts as ours if its working dir is our state dir.
redis_is_ours() {
  local got
  got="$(rcli "$1" config get dir 2>/dev/null | sed -n 2p)" || return 1
  [[ $got == "$REDIS_DIR/$1" ]]
}

redis_up() { redis_is_ours "$1"; }

pid_is_redis_on() {
  local pid=$1 port=$2 cmd
  [[ $pid =~ ^[0-9]+$ ]] && [[ -r /proc/$pid/cmdline ]] || return 1
  cmd="$(tr '\0' ' ' <"/proc/$pid/cmdline")"
  [[ $cmd == *redis-server* && $cmd == *":$port"* ]]
}

redis_start() {
  local port=$1 kind=$2 dir="$REDIS_DIR/$1"
  if redis_ping "$port"; then
    redis_is_ours "$port" && return 0
    die "port $port answers as a redis that is not ours (dir != $dir)"
  fi
  port_in_use "$port" && die "port $port is already in use by another process"
  mkdir -p "$dir"
  rm -f "$dir/redis.pid"   # stale after a crash; redis_wait uses it to detect early death
  local args=(--port "$port" --bind 127.0.0.1 --daemonize yes --dir "$dir"
              --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" --save "" --appendonly no)
  if [[ $kind == cluster ]]; then
    # The bus port defaults to port+10000, impossible for ports > 55535 (our
    # 57000/57100 sets), so always pick it explicitly.
    args+=(--cluster-enabled yes --cluster-config-file nodes.conf --cluster-node-timeout 2000
           --cluster-port "$(cluster_bus_port "$port")")
  fi
  redis-server "${args[@]}" 9>&-
}

cluster_bus_port() {
  if (( $1 + 10000 <= 65535 )); then echo $(($1 + 10000)); else echo $(($1 - 10000)); fi
}

# Ready, or the daemon already died (pidfile written but process gone).
redis_ready_or_dead() {
  local pidfile="$REDIS_DIR/$1/redis.pid" pid
  redis_ping "$1" && return 0
  [[ -f $pidfile ]] || return 1
  pid="$(<"$pidfile")"
  [[ -n $pid ]] && ! pid_alive "$pid"
}

redis_wait() {
  local log="$REDIS_DIR/$1/redis.log"
  if ! wait_until 10 redis_ready_or_dead "$1" || ! redis_ping "$1"; then
    [[ -f $log ]] && tail -n 5 "$log" >&2
    die "redis on port $1 did not come up (log: $log)"
  fi
}

redis_gone() { ! pid_is_redis_on "$1" "$2" && ! redis_ping "$2"; }

redis_stop() {
  local port=$1 dir="$REDIS_DIR/$1" pid=""
  [[ -f $dir/redis.pid ]] && pid="$(<"$dir/redis.pid")"
  if redis_up "$port"; then
    log "stopping redis on $port"
    rcli "$port" shutdown nosave >/dev/null 2>&1 || true
  elif pid_is_redis_on "$pid" "$port"; then
    log "stopping redis on $port (pid $pid)"
    kill "$pid" 2>/dev/null || true
  else
    rm -f "$dir/redis.pid"
    return 0
  fi
  if ! wait_until 10 redis_gone "$pid" "$port"; then
    if pid_is_redis_on "$pid" "$port"; then kill -9 "$pid" 2>/dev/null || true; fi
  fi
  rm -f "$dir/redis.pid"
}

ensure_redis_standalone() {
  redis_start "$REDIS_PORT" standalone
  redis_wait "$REDIS_PORT"
}

node_cluster_info() { rcli "$1" cluster info 2>/dev/null | tr -d '\r'; }

node_ok() {
  local info
  info="$(node_cluster_info "$1")"
  [[ $info == *cluster_state:ok* && $info == *cluster_known_nodes:6* && $info == *cluster_size:3* ]]
}

node_fresh() {
  local info
  info="$(node_cluster_info "$1")"
  [[ $info == *cluster_known_nodes:1$'\n'* && $info == *cluster_slots_assigned:0* ]]
}

cluster_ok_all() {
  local p
  for p in $(cluster_ports); do node_ok "$p" || return 1; done
}

cluster_up() {
  local p
  for p in $(cluster_ports); do redis_up "$p" || return 1; done
  cluster_ok_all
}

cluster_start_nodes() {
  local p
  for p in $(cluster_ports); do redis_start "$p" cluster; done
  for p in $(cluster_ports); do
    redis_wait "$p"
    [[ $(rcli "$p" info cluster 2>/dev/null) == *cluster_enabled:1* ]] \
      || die "redis on $p is not cluster-enabled (standalone using a cluster port?)"
  done
}

cluster_create() {
  local nodes=() p
  for p in $(cluster_ports); do nodes+=("127.0.0.1:$p"); done
  log "creating redis cluster on ${nodes[0]}..${nodes[5]} (3 primaries, 3 replicas)"
  if ! redis-cli --cluster create "${nodes[@]}" --cluster-replicas 1 --cluster-yes \
       >"$REDIS_DIR/cluster-create.log" 2>&1; then
    tail -n 20 "$REDIS_DIR/cluster-create.log" >&2
    die "redis-cli --cluster create failed (log: $REDIS_DIR/cluster-create.log)"
  fi
}

cluster_wipe() {
  local p
  log "wiping redis cluster state and recreating"
  for p in $(cluster_ports); do redis_stop "$p"; rm -rf "${REDIS_DIR:?}/$p"; done
  cluster_start_nodes
}

ensure_redis_cluster() {
  cluster_start_nodes
  cluster_ok_all && return 0
  local p fresh=0
  for p in $(cluster_ports); do node_fresh "$p" && fresh=$((fresh + 1)); done
  if (( fresh == 6 )); then
    cluster_create
  elif (( fresh == 0 )); then
    log "waiting for existing redis cluster to converge"
    if ! wait_until 20 cluster_ok_all; then
      log "redis cluster did not converge within 20s"
      cluster_wipe
      cluster_create
    fi
  else
    log "redis cluster state is inconsistent ($fresh of 6 nodes have no cluster config)"
    cluster_wipe
    cluster_create
  fi
  wait_until 30 cluster_ok_all || die "redis cluster not cluster_state:ok on all nodes after 30s"
}

cluster_url() {
  local p url="redis-cluster://127.0.0.1:$REDIS_CLUSTER_BASE_PORT" sep="?"
  for p in $(cluster_ports); do
    (( p == REDIS_CLUSTER_BASE_PORT )) && continue
    url+="${sep}node=127.0.0.1:$p"; sep="&"
  done
  echo "$url"
}

# ---------------------------------------------------------------- commands

write_env() {
  local standalone=$1 cluster=$2 tmp="$ENV_FILE.tmp" r name pw schema var
  {
    echo "PG_PORT=$PG_PORT"
    echo "PG_ADMIN_URL=postgres://postgres:$PG_ADMIN_PASSWORD@127.0.0.1:$PG_PORT/postgres"
    for r in "${PG_ROLES[@]}"; do
      IFS=: read -r name pw schema <<<"$r"
      var="${schema^^}_DATABASE_URL"
      echo "$var=postgres://$name:$pw@127.0.0.1:$PG_PORT/$PG_DB"
    done
    if (( standalone )); then
      echo "REDIS_URL=redis://127.0.0.1:$REDIS_PORT"
    elif (( cluster )); then
      echo "REDIS_URL='$(cluster_url)'"
    fi
    if (( standalone )); then echo "REDIS_STANDALONE_URL=redis://127.0.0.1:$REDIS_PORT"; fi
    # Quoted: the URL's '&' must survive sourcing the file in a shell.
    if (( cluster )); then echo "REDIS_CLUSTER_URL='$(cluster_url)'"; fi
  } >"$tmp"
  mv -f "$tmp" "$ENV_FILE"
}

take_lock() {
  mkdir -p "$STATE_DIR"
  exec 9>"$STATE_DIR/.lock"
  flock -w 300 9 || die "another stack.sh is running for STACK=$STACK (lock $STATE_DIR/.lock)"
}

cmd_up() {
  local t0=${EPOCHREALTIME/[.,]/}
  ensure_packages
  take_lock
  pg_init
  pg_write_conf
  pg_start
  pg_provision
  if [[ $REDIS_MODE == standalone || $REDIS_MODE == both ]]; then ensure_redis_standalone; fi
  if [[ $REDIS_MODE == cluster || $REDIS_MODE == both ]]; then ensure_redis_cluster; fi
  local standalone=0 cluster=0
  if redis_up "$REDIS_PORT"; then standalone=1; fi
  if cluster_up; then cluster=1; fi
  write_env "$standalone" "$cluster"
  local ms=$(( (${EPOCHREALTIME/[.,]/} - t0) / 1000 ))
  echo "stack '$STACK' is up (took $((ms / 1000)).$(printf '%03d' $((ms % 1000)))s):"
  echo "  postgres       127.0.0.1:$PG_PORT  db=$PG_DB  (data: $PG_DATA, log: $PG_LOG)"
  if (( standalone )); then echo "  redis          127.0.0.1:$REDIS_PORT"; fi
  if (( cluster )); then echo "  redis cluster  127.0.0.1:$REDIS_CLUSTER_BASE_PORT-$((REDIS_CLUSTER_BASE_PORT + 5))  (3 primaries + 3 replicas)"; fi
  echo "  env file       $ENV_FILE   (print with: STACK=$STACK $SCRIPT_PATH env)"
}

cmd_down() {
  [[ -d $STATE_DIR ]] || { log "nothing to stop"; return 0; }
  take_lock
  pg_stop
  local d port
  for d in "$REDIS_DIR"/*/; do
    [[ -d $d ]] || continue
    port="$(basename "$d")"
    [[ $port =~ ^[0-9]+$ ]] || continue
    redis_stop "$port"
  done
  rm -f "$ENV_FILE"
  log "stack '$STACK' is down (data kept in $STATE_DIR)"
}

cmd_status() {
  PGBIN="$(pg_bin_dir 2>/dev/null || true)"
  echo "stack '$STACK' ($STATE_DIR)"
  if pg_running; then
    echo "  postgres      up    127.0.0.1:$(pg_running_port)"
  elif [[ -f $PG_DATA/PG_VERSION ]]; then
    echo "  postgres      down  (port $PG_PORT)"
  else
    echo "  postgres      down  (not initialized)"
  fi
  if redis_up "$REDIS_PORT"; then
    echo "  redis         up    127.0.0.1:$REDIS_PORT"
  else
    echo "  redis         down  (port $REDIS_PORT)"
  fi
  local p role any=0 first="" masters slaves
  for p in $(cluster_ports); do
    if redis_up "$p"; then
      any=1; first="${first:-$p}"
      role="$(rcli "$p" role 2>/dev/null | head -n1)"
      echo "  cluster node  up    127.0.0.1:$p ($role)"
    elif [[ -d $REDIS_DIR/$p ]]; then
      echo "  cluster node  down  (port $p)"
    fi
  done
  if (( any )); then
    masters="$(rcli "$first" cluster nodes 2>/dev/null | awk '$3 ~ /master/ && $3 !~ /fail/' | wc -l)"
    slaves="$(rcli "$first" cluster nodes 2>/dev/null | awk '$3 ~ /slave/ && $3 !~ /fail/' | wc -l)"
    echo "  cluster       $(node_cluster_info "$first" | grep '^cluster_state:' || echo 'cluster_state:?')  masters=$masters replicas=$slaves"
  else
    echo "  cluster       down  (ports $REDIS_CLUSTER_BASE_PORT-$((REDIS_CLUSTER_BASE_PORT + 5)))"
  fi
  # Anything else this stack started (e.g. with other port overrides).
  local d
  for d in "$REDIS_DIR"/*/; do
    [[ -d $d ]] || continue
    p="$(basename "$d")"
    [[ $p =~ ^[0-9]+$ ]] || continue
    (( p == REDIS_PORT )) && continue
    (( p >= REDIS_CLUSTER_BASE_PORT && p < REDIS_CLUSTER_BASE_PORT + 6 )) && continue
    if redis_up "$p"; then echo "  redis (other) up    127.0.0.1:$p"; fi
  done
  return 0
}

cmd_env() {
  PGBIN="$(pg_bin_dir 2>/dev/null || true)"
  if [[ -f $ENV_FILE ]] && pg_running; then
    cat "$ENV_FILE"
  else
    echo "stack '$STACK' is not up; start it with: STACK=$STACK $SCRIPT_PATH up" >&2
    exit 1
  fi
}

usage() {
  sed -n '2,/^set -euo/p' "$SCRIPT_PATH" | sed '$d; s/^# \{0,1\}//' >&2
  exit 2
}

case "${1:-}" in
  up)     cmd_up ;;
  down)   cmd_down ;;
  status) cmd_status ;;
  env)    cmd_env ;;
  *)      usage ;;
esac
