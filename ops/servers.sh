#!/usr/bin/env bash
# Starts, stops and reports the local servers the integration tests and the
# quickstart use: PostgreSQL 15, MariaDB 10.11, Redis and Redis over TLS, all on
# 127.0.0.1 with their data under $TRIB_RUN_DIR (ports and paths: ops/env.sh).
#
#   ops/servers.sh start          initialise on first use, start what is not running
#   ops/servers.sh status         one line per server; exit 0 only if all answer
#   ops/servers.sh stop [--clean] stop what this script started (the cluster
#                                 too); --clean also deletes $TRIB_RUN_DIR
#   ops/servers.sh cluster-start  a Redis Cluster of three masters with one
#                                 replica each ($TRIB_REDIS_CLUSTER_PORT and
#                                 the five ports after it, TLS on each port
#                                 +200); not part of start
#   ops/servers.sh cluster-stop   stop the cluster's nodes
#
# start and stop must run as root: PostgreSQL is run as user postgres through
# runuser, MariaDB and Redis as root. Every server runs in its own session
# (setsid), so it outlives the shell, ctest or CI job that started it. A
# running server is recognised by its pidfile plus a live process of the right
# name, so `start` twice is harmless and `stop` never touches a process this
# script did not start. Several callers at once are serialised by a lock file.
set -Eeuo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=ops/env.sh
source "$ROOT/ops/env.sh"

die() { echo "servers.sh: error: $*" >&2; exit 1; }
log() { echo "servers.sh: $*"; }
trap 'die "command failed at line $LINENO: $BASH_COMMAND"' ERR

RUN="$TRIB_RUN_DIR"
DEADLINE="${TRIB_START_TIMEOUT:-30}"   # seconds each server may take to answer

PG_DIR="$RUN/pg"                       # owned by postgres: initdb and the socket need it
PG_DATA="$PG_DIR/data"
PG_LOG="$PG_DIR/postgresql.log"
PG_SOCK_DIR="$TRIB_PG_SOCKET_DIR"

MY_DATA="$RUN/mariadb"
MY_SOCK="$TRIB_MARIADB_SOCKET"
MY_PID="$RUN/mariadb.pid"
MY_LOG="$RUN/mariadb.log"

REDIS_DIR="$RUN/redis"
REDIS_PID="$RUN/redis.pid"
REDIS_LOG="$RUN/redis.log"
RTLS_DIR="$RUN/redis-tls"
RTLS_PID="$RUN/redis-tls.pid"
RTLS_LOG="$RUN/redis-tls.log"
TLS="$TRIB_TLS_DIR"
CLUSTER_DIR="$RUN/redis-cluster"       # one directory per node, named by port

SRC_USER="$TRIB_SOURCE_USER"
SRC_PW="$TRIB_SOURCE_PASSWORD"

# ---------------------------------------------------------------- helpers

# True if process $1 exists and has not exited. Read from /proc rather than
# kill -0: that works for any user (status needs no root), and a zombie
# (killed, not yet reaped by its parent) shows as state Z.
running() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  stat=${stat##*) }   # the state letter follows "pid (comm) "
  [[ ${stat:0:1} != Z ]]
}

# Prints the pid recorded in pidfile $1 if that process is running and is
# named $2, with no output and status 1 otherwise; a recycled pid of some
# other program does not count as ours.
pidfile_pid() { [[ -s $1 ]] && head -n1 "$1" 2>/dev/null | tr -dc '0-9'; }
live_pid() {
  local file=$1 name=$2 pid
  pid=$(pidfile_pid "$file") && [[ -n $pid ]] || return 1
  running "$pid" || return 1
  [[ "$(cat "/proc/$pid/comm" 2>/dev/null)" == "$name" ]] || return 1
  echo "$pid"
}

# True if something accepts TCP connections on 127.0.0.1:$1.
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Refuses to start over a port that another program already holds.
require_free_port() {
  local port=$1 what=$2
  if port_open "$port"; then
    die "port $port for $what is in use by a process servers.sh did not start (its pidfile under $RUN is missing or stale); pick another port in the environment (see ops/env.sh) or stop that process"
  fi
}

# Polls `"$@"` until it succeeds. Fails with the tail of $log once $DEADLINE
# seconds pass, or as soon as the process in $pidfile has exited.
wait_ready() {
  local what=$1 log=$2 pidfile=$3; shift 3
  local end=$((SECONDS + DEADLINE)) pause=0.01 pid
  until "$@" >/dev/null 2>&1; do
    # By pid alone: right after the fork the process has no server name yet.
    if pid=$(pidfile_pid "$pidfile") && [[ -n $pid ]] && ! running "$pid"; then
      echo "--- last lines of $log" >&2; tail -n 20 "$log" >&2 || true
      die "$what exited during startup"
    fi
    if (( SECONDS >= end )); then
      echo "--- last lines of $log" >&2; tail -n 20 "$log" >&2 || true
      die "$what did not accept connections within ${DEADLINE}s"
    fi
    sleep "$pause"
    # Back off to 0.16 s: quick servers answer quickly, slow ones cost little CPU.
    case $pause in 0.01) pause=0.02 ;; 0.02) pause=0.04 ;; 0.04) pause=0.08 ;; *) pause=0.16 ;; esac
  done
}

# Waits until no live process of name $2 is recorded in pidfile $1.
wait_gone() {
  local file=$1 name=$2 what=$3 end=$((SECONDS + DEADLINE))
  while live_pid "$file" "$name" >/dev/null; do
    (( SECONDS < end )) || die "$what did not stop within ${DEADLINE}s (pid $(head -n1 "$file"))"
    sleep 0.05
  done
}

sql_quote() { printf "%s" "${1//\'/\'\'}"; }   # for '...' literals

# ---------------------------------------------------------------- certificates

# A CA, a server certificate for localhost/127.0.0.1 and a client certificate,
# plus PKCS12 copies (password 'changeit') for configs that want key stores.
# Made once; a partial set is thrown away and made again.
make_tls() {
  local f complete=1
  for f in ca.crt ca.key server.crt server.key client.crt client.key client.p12 ca.p12; do
    [[ -s $TLS/$f ]] || complete=0
  done
  (( complete )) && return 0
  local tmp="$TLS.tmp.$$"
  rm -rf "$tmp" "$TLS"; mkdir -p "$tmp"
  (
    cd "$tmp"
    cat > ca.cnf <<'EOF'
[req]
distinguished_name = dn
x509_extensions = v3_ca
prompt = no
[dn]
CN = Tributary Test CA
[v3_ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
EOF
    printf '%s\n' 'basicConstraints=CA:FALSE' 'keyUsage=critical,digitalSignature,keyEncipherment' \
      'extendedKeyUsage=serverAuth' 'subjectAltName=DNS:localhost,IP:127.0.0.1' \
      'authorityKeyIdentifier=keyid' > server.ext
    printf '%s\n' 'basicConstraints=CA:FALSE' 'keyUsage=critical,digitalSignature,keyEncipherment' \
      'extendedKeyUsage=clientAuth' 'authorityKeyIdentifier=keyid' > client.ext
    openssl req -x509 -new -nodes -newkey rsa:2048 -sha256 -days 3650 -config ca.cnf \
      -keyout ca.key -out ca.crt
    for who in server client; do
      openssl req -new -nodes -newkey rsa:2048 -sha256 -subj "/CN=$( [[ $who == server ]] && echo localhost || echo tributary)" \
        -keyout "$who.key" -out "$who.csr"
      openssl x509 -req -in "$who.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -sha256 \
        -days 3650 -extfile "$who.ext" -out "$who.crt"
    done
    openssl pkcs12 -export -in client.crt -inkey client.key -certfile ca.crt -name client \
      -out client.p12 -passout pass:changeit
    openssl pkcs12 -export -nokeys -in ca.crt -out ca.p12 -passout pass:changeit
    rm -f ./*.csr ./*.ext ca.cnf ca.srl
    # Test-only keys in a throwaway directory: readable so tests need not run as root.
    chmod 644 ./*
  ) > "$RUN/tls.log" 2>&1 || { tail -n 20 "$RUN/tls.log" >&2; die "openssl could not make the test certificates (log: $RUN/tls.log)"; }
  mv "$tmp" "$TLS"
  log "made test certificates in $TLS"
}

# ---------------------------------------------------------------- PostgreSQL

pg_init() {
  install -d -o postgres -g postgres -m 700 "$PG_DIR"
  [[ -s $PG_DATA/PG_VERSION ]] && return 0
  rm -rf "$PG_DATA"
  # local: trust (root administers through the socket as postgres);
  # host and host replication: scram, so clients really log in.
  runuser -u postgres -- "$TRIB_PG_BIN/initdb" -D "$PG_DATA" -U postgres -E UTF8 --no-locale \
    --auth-local=trust --auth-host=scram-sha-256 --no-sync > "$PG_DIR/initdb.log" 2>&1 \
    || { tail -n 20 "$PG_DIR/initdb.log" >&2; die "initdb failed (log: $PG_DIR/initdb.log)"; }
  # Port, address and socket go on the command line (see pg_launch) so that a
  # changed TRIB_PG_PORT takes effect without re-initialising.
  cat >> "$PG_DATA/postgresql.conf" <<'EOF'

# ---- added by ops/servers.sh
wal_level = logical
max_replication_slots = 20
max_wal_senders = 20
max_connections = 200
password_encryption = 'scram-sha-256'
# A throwaway test server: durability is not worth the disk waits.
fsync = off
synchronous_commit = off
full_page_writes = off
EOF
}

pg_launch() {
  if pid=$(live_pid "$PG_DATA/postmaster.pid" postgres); then
    log "postgresql already running (pid $pid, port $TRIB_PG_PORT)"; return 0
  fi
  require_free_port "$TRIB_PG_PORT" postgresql
  install -d -o postgres -g postgres -m 755 "$PG_SOCK_DIR"
  # setsid: the server must outlive the caller's process group (ctest, CI jobs).
  setsid runuser -u postgres -- "$TRIB_PG_BIN/pg_ctl" -D "$PG_DATA" -l "$PG_LOG" -W \
    -o "-c port=$TRIB_PG_PORT -c listen_addresses=127.0.0.1 -c unix_socket_directories=$PG_SOCK_DIR" \
    start > "$PG_DIR/pg_ctl.log" 2>&1 9>&- || { cat "$PG_DIR/pg_ctl.log" >&2; die "pg_ctl start failed"; }
}

pg_setup() {
  wait_ready "postgresql on port $TRIB_PG_PORT" "$PG_LOG" "$PG_DATA/postmaster.pid" \
    "$TRIB_PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$TRIB_PG_PORT"
  # Idempotent: (re)applies the role's attributes and password every start.
  "$TRIB_PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PG_SOCK_DIR" -p "$TRIB_PG_PORT" -U postgres -d postgres \
    -v user="$SRC_USER" -v pw="$SRC_PW" > "$PG_DIR/setup.log" 2>&1 <<'EOF' \
    || { cat "$PG_DIR/setup.log" >&2; die "could not create the postgresql role (log: $PG_DIR/setup.log)"; }
SELECT format('CREATE ROLE %I', :'user') WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'user') \gexec
ALTER ROLE :"user" WITH LOGIN REPLICATION CREATEDB NOSUPERUSER PASSWORD :'pw';
GRANT CREATE ON DATABASE postgres TO :"user";
GRANT ALL ON SCHEMA public TO :"user";
-- Tests drop their databases WITH (FORCE); an autovacuum worker there
-- belongs to the superuser, and only pg_signal_backend may end it.
GRANT pg_signal_backend TO :"user";
EOF
}

# ---------------------------------------------------------------- MariaDB

mariadb_init() {
  [[ -d $MY_DATA/mysql ]] && return 0
  rm -rf "$MY_DATA"; mkdir -p "$MY_DATA"
  mariadb-install-db --no-defaults --datadir="$MY_DATA" --user=root \
    --auth-root-authentication-method=normal --skip-test-db > "$RUN/mariadb-install.log" 2>&1 \
    || { tail -n 20 "$RUN/mariadb-install.log" >&2; rm -rf "$MY_DATA"; die "mariadb-install-db failed (log: $RUN/mariadb-install.log)"; }
}

mariadb_launch() {
  if pid=$(live_pid "$MY_PID" mariadbd); then
    log "mariadb already running (pid $pid, port $TRIB_MARIADB_PORT)"; return 0
  fi
  require_free_port "$TRIB_MARIADB_PORT" mariadb
  rm -f "$MY_PID" "$MY_SOCK"
  # --no-defaults must come first; binlog flags give the row images and column
  # metadata the binlog reader needs (stack-notes). The durability knobs are
  # relaxed because this is a throwaway test server. The buffer pool holds the
  # benchmark's 1,000,000-row table (130 MB; the default pool is 128 MB and
  # InnoDB bypasses the page cache), as a DBA would size it.
  setsid mariadbd --no-defaults --datadir="$MY_DATA" --socket="$MY_SOCK" --port="$TRIB_MARIADB_PORT" \
    --bind-address=127.0.0.1 --user=root --pid-file="$MY_PID" --log-error="$MY_LOG" \
    --server-id=1 --log-bin=mysql-bin --binlog-format=ROW --binlog-row-image=FULL \
    --binlog-row-metadata=FULL --skip-name-resolve --max-connections=300 \
    --innodb-flush-log-at-trx-commit=2 --sync-binlog=0 --innodb-buffer-pool-size=512M \
    < /dev/null >> "$MY_LOG" 2>&1 9>&- &
  # The pidfile exists from this moment, so a `stop` that races a failed start
  # still finds the server. setsid does not fork here (a background child of a
  # script is no process group leader), so $! is mariadbd's own pid.
  echo "$!" > "$MY_PID"
}

mariadb_setup() {
  wait_ready "mariadb on port $TRIB_MARIADB_PORT" "$MY_LOG" "$MY_PID" \
    mariadb-admin --no-defaults --socket="$MY_SOCK" -uroot ping
  local u p host sql=""
  u=$(sql_quote "$SRC_USER"); p=$(sql_quote "$SRC_PW")
  # Both hosts: 127.0.0.1 for TCP clients, localhost for the socket.
  for host in 127.0.0.1 localhost; do
    sql+="CREATE USER IF NOT EXISTS '$u'@'$host' IDENTIFIED BY '$p';
ALTER USER '$u'@'$host' IDENTIFIED BY '$p';
GRANT ALL PRIVILEGES ON *.* TO '$u'@'$host';
GRANT REPLICATION SLAVE, BINLOG MONITOR, RELOAD ON *.* TO '$u'@'$host';
"
  done
  mariadb --no-defaults --socket="$MY_SOCK" -uroot -e "$sql" > "$RUN/mariadb-setup.log" 2>&1 \
    || { cat "$RUN/mariadb-setup.log" >&2; die "could not create the mariadb user (log: $RUN/mariadb-setup.log)"; }
}

# ---------------------------------------------------------------- Redis

# The ACL user may use every command but only on keys acl_*, so tests see
# NOPERM elsewhere. `default` stays open, as on a stock server.
redis_acl_args() {
  printf '%s\0' --user "$TRIB_REDIS_ACL_USER" reset on ">$TRIB_REDIS_ACL_PASSWORD" '~acl_*' '&*' '+@all'
}

redis_launch() {
  local pid args=()
  if pid=$(live_pid "$REDIS_PID" redis-server); then
    log "redis already running (pid $pid, port $TRIB_REDIS_PORT)"
  else
    require_free_port "$TRIB_REDIS_PORT" redis
    mkdir -p "$REDIS_DIR"; rm -f "$REDIS_PID"
    mapfile -d '' args < <(redis_acl_args)
    # Not --daemonize: run under setsid like mariadbd, so the pid is known
    # (and written) before the server has done anything.
    setsid redis-server --bind 127.0.0.1 --port "$TRIB_REDIS_PORT" --dir "$REDIS_DIR" \
      --save '' --appendonly no --pidfile "$REDIS_PID" --logfile "$REDIS_LOG" \
      "${args[@]}" < /dev/null > "$RUN/redis-launch.log" 2>&1 9>&- &
    echo "$!" > "$REDIS_PID"
  fi
  if pid=$(live_pid "$RTLS_PID" redis-server); then
    log "redis tls already running (pid $pid, port $TRIB_REDIS_TLS_PORT)"
  else
    require_free_port "$TRIB_REDIS_TLS_PORT" "redis tls"
    mkdir -p "$RTLS_DIR"; rm -f "$RTLS_PID"
    mapfile -d '' args < <(redis_acl_args)
    setsid redis-server --bind 127.0.0.1 --port 0 --tls-port "$TRIB_REDIS_TLS_PORT" \
      --tls-cert-file "$TLS/server.crt" --tls-key-file "$TLS/server.key" \
      --tls-ca-cert-file "$TLS/ca.crt" --tls-auth-clients yes --dir "$RTLS_DIR" \
      --save '' --appendonly no --pidfile "$RTLS_PID" --logfile "$RTLS_LOG" \
      "${args[@]}" < /dev/null > "$RUN/redis-tls-launch.log" 2>&1 9>&- &
    echo "$!" > "$RTLS_PID"
  fi
}

redis_ping() { [[ "$(redis-cli -h 127.0.0.1 -p "$TRIB_REDIS_PORT" ping 2>/dev/null)" == PONG ]]; }
redis_tls_ping() {
  [[ "$(redis-cli --tls --cacert "$TLS/ca.crt" --cert "$TLS/client.crt" --key "$TLS/client.key" \
        -h 127.0.0.1 -p "$TRIB_REDIS_TLS_PORT" ping 2>/dev/null)" == PONG ]]
}

# ---------------------------------------------------------------- Redis Cluster

cluster_ports() { local i; for i in 0 1 2 3 4 5; do echo $((TRIB_REDIS_CLUSTER_PORT + i)); done; }
cluster_bus_port() { echo $(($1 + 100)); }
cluster_tls_port() { echo $(($1 + 200)); }
node_ping() { [[ "$(redis-cli -h 127.0.0.1 -p "$1" ping 2>/dev/null)" == PONG ]]; }
node_info() { redis-cli -h 127.0.0.1 -p "$1" cluster info 2>/dev/null | tr -d '\r'; }

# Every node answers and sees the cluster whole: state ok, six nodes known.
cluster_ok() {
  local port info
  for port in $(cluster_ports); do
    info=$(node_info "$port")
    grep -qx 'cluster_state:ok' <<< "$info" || return 1
    grep -qx 'cluster_known_nodes:6' <<< "$info" || return 1
  done
}

# Starts the node on port $1 (its flags: see below); the ACL user comes from
# the array `args` of the caller.
cluster_node_launch() {
  local port=$1 dir="$CLUSTER_DIR/$1"
  mkdir -p "$dir"; rm -f "$dir/redis.pid"
  # No persistence, as the single server: a node started again comes back
  # empty (its nodes.conf keeps its place in the cluster).
  # Each node also serves TLS (the single TLS server's certificates) on
  # port+200. tls-cluster yes is what makes CLUSTER SLOTS and MOVED name
  # the TLS ports to a TLS client (and the plain ones to a plain client);
  # it puts the bus on TLS too, and tls-replication the replicas, as a
  # TLS client each: that is what the client certificate is for. A replica
  # still names its plain port to its master (INFO replication), as the
  # failover tests read it.
  setsid redis-server --bind 127.0.0.1 --port "$port" --dir "$dir" \
    --tls-port "$(cluster_tls_port "$port")" --tls-cluster yes --tls-replication yes \
    --replica-announce-port "$port" \
    --tls-cert-file "$TLS/server.crt" --tls-key-file "$TLS/server.key" \
    --tls-client-cert-file "$TLS/client.crt" --tls-client-key-file "$TLS/client.key" \
    --tls-ca-cert-file "$TLS/ca.crt" --tls-auth-clients yes \
    --cluster-enabled yes --cluster-port "$(cluster_bus_port "$port")" \
    --cluster-config-file "$dir/nodes.conf" --cluster-node-timeout 2000 \
    --save '' --appendonly no --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" \
    "${args[@]}" < /dev/null > "$dir/launch.log" 2>&1 9>&- &
  echo "$!" > "$dir/redis.pid"
}

# Waits for the node on port $1. The node ports lie in the kernel's range of
# ephemeral ports: a client's connection may hold one for a moment, and
# after it closes the port stays in TIME_WAIT for up to 60 s, during which
# the node's bind fails ("Address already in use") though nothing listens
# there. Such a node is started again until its ports are free.
cluster_node_wait() {
  local port=$1 dir="$CLUSTER_DIR/$1" end=$((SECONDS + 75)) said=0
  while ! ( wait_ready "redis cluster node on port $port" "$dir/redis.log" "$dir/redis.pid" \
              node_ping "$port" ) 2> "$dir/wait.err"; do
    if (( SECONDS < end )) && tail -n 3 "$dir/redis.log" | grep -q 'Address already in use'; then
      (( said++ )) || log "a port of cluster node $port is held by a closing connection; starting it again until it is free (up to 60 s)"
      sleep 2
      cluster_node_launch "$port"
    else
      cat "$dir/wait.err" >&2; exit 1
    fi
  done
}

cluster_start() {
  command -v redis-server >/dev/null || die "redis-server not found: run ops/install.sh"
  local port dir pid bus started=0
  make_tls
  (( TRIB_REDIS_CLUSTER_PORT + 205 <= 65535 )) \
    || die "TRIB_REDIS_CLUSTER_PORT=$TRIB_REDIS_CLUSTER_PORT leaves no room for six nodes, their bus ports (+100) and TLS ports (+200)"
  for port in $(cluster_ports); do
    live_pid "$CLUSTER_DIR/$port/redis.pid" redis-server >/dev/null && continue
    require_free_port "$port" "redis cluster node"
    require_free_port "$(cluster_bus_port "$port")" "redis cluster bus"
    require_free_port "$(cluster_tls_port "$port")" "redis cluster node tls"
  done
  mapfile -d '' args < <(redis_acl_args)
  for port in $(cluster_ports); do
    if pid=$(live_pid "$CLUSTER_DIR/$port/redis.pid" redis-server); then
      log "redis cluster node already running (pid $pid, port $port)"; continue
    fi
    cluster_node_launch "$port"
    started=1
  done
  for port in $(cluster_ports); do cluster_node_wait "$port"; done
  # A node that knows only itself was never joined: create the cluster. Nodes
  # that were (started again with their nodes.conf) find each other.
  if grep -qx 'cluster_known_nodes:1' <<< "$(node_info "$TRIB_REDIS_CLUSTER_PORT")"; then
    local addrs=()
    for port in $(cluster_ports); do addrs+=("127.0.0.1:$port"); done
    redis-cli --cluster create "${addrs[@]}" --cluster-replicas 1 --cluster-yes \
      > "$CLUSTER_DIR/create.log" 2>&1 \
      || { tail -n 20 "$CLUSTER_DIR/create.log" >&2; die "redis-cli --cluster create failed (log: $CLUSTER_DIR/create.log)"; }
  fi
  wait_ready "redis cluster on ports $TRIB_REDIS_CLUSTER_PORT-$((TRIB_REDIS_CLUSTER_PORT + 5))" \
    "$CLUSTER_DIR/$TRIB_REDIS_CLUSTER_PORT/redis.log" /dev/null cluster_ok
  (( started )) && log "redis cluster up: three masters, one replica each, ports $TRIB_REDIS_CLUSTER_PORT-$((TRIB_REDIS_CLUSTER_PORT + 5))"
  return 0
}

cluster_stop() {
  local port pid file
  for port in $(cluster_ports); do
    file="$CLUSTER_DIR/$port/redis.pid"
    if pid=$(live_pid "$file" redis-server); then
      kill -TERM "$pid"
      wait_gone "$file" redis-server "redis cluster node $port"
      log "stopped redis cluster node $port (pid $pid)"
    fi
  done
}

# ---------------------------------------------------------------- commands

cmd_start() {
  local t0 pids=() rc=0
  t0=$(date +%s%N)
  [[ -x $TRIB_PG_BIN/initdb ]] || die "no PostgreSQL 15 at $TRIB_PG_BIN: run ops/install.sh"
  command -v mariadbd >/dev/null || die "mariadbd not found: run ops/install.sh"
  command -v redis-server >/dev/null || die "redis-server not found: run ops/install.sh"
  # First use: the two slow initialisations run side by side.
  if [[ ! -s $PG_DATA/PG_VERSION ]]; then pg_init & pids+=($!); else pg_init; fi
  if [[ ! -d $MY_DATA/mysql ]]; then mariadb_init & pids+=($!); fi
  make_tls
  for p in "${pids[@]}"; do wait "$p" || rc=1; done
  (( rc == 0 )) || die "initialisation failed (see the messages above)"
  # Every port is checked before anything starts, so a clash leaves nothing half up.
  live_pid "$PG_DATA/postmaster.pid" postgres >/dev/null || require_free_port "$TRIB_PG_PORT" postgresql
  live_pid "$MY_PID" mariadbd >/dev/null || require_free_port "$TRIB_MARIADB_PORT" mariadb
  live_pid "$REDIS_PID" redis-server >/dev/null || require_free_port "$TRIB_REDIS_PORT" redis
  live_pid "$RTLS_PID" redis-server >/dev/null || require_free_port "$TRIB_REDIS_TLS_PORT" "redis tls"
  pg_launch
  mariadb_launch
  redis_launch
  # All four start concurrently; wait for each in turn.
  wait_ready "redis on port $TRIB_REDIS_PORT" "$REDIS_LOG" "$REDIS_PID" redis_ping
  wait_ready "redis tls on port $TRIB_REDIS_TLS_PORT" "$RTLS_LOG" "$RTLS_PID" redis_tls_ping
  pg_setup
  mariadb_setup
  log "all servers up in $(( ($(date +%s%N) - t0) / 1000000 )) ms (run dir $RUN)"
}

cmd_status() {
  local bad=0 pid
  show() { # name port pidfile pname probe...
    local name=$1 port=$2 file=$3 pname=$4; shift 4
    if (( EUID != 0 )) && ! [[ -r $file ]]; then
      # Without root the pidfile may be unreadable: report what the port says.
      if "$@" >/dev/null 2>&1; then printf '%-12s answering                port %s (pid unknown: not root)\n' "$name" "$port"
      else printf '%-12s not answering            port %s (pid unknown: not root)\n' "$name" "$port"; bad=1; fi
    elif pid=$(live_pid "$file" "$pname"); then
      if "$@" >/dev/null 2>&1; then printf '%-12s running  pid %-8s port %s\n' "$name" "$pid" "$port"
      else printf '%-12s starting pid %-8s port %s (not answering yet)\n' "$name" "$pid" "$port"; bad=1; fi
    else
      printf '%-12s stopped                port %s\n' "$name" "$port"; bad=1
    fi
  }
  show postgresql "$TRIB_PG_PORT" "$PG_DATA/postmaster.pid" postgres \
    "$TRIB_PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$TRIB_PG_PORT"
  show mariadb "$TRIB_MARIADB_PORT" "$MY_PID" mariadbd \
    mariadb-admin --no-defaults --socket="$MY_SOCK" -uroot ping
  show redis "$TRIB_REDIS_PORT" "$REDIS_PID" redis-server redis_ping
  show redis-tls "$TRIB_REDIS_TLS_PORT" "$RTLS_PID" redis-server redis_tls_ping
  if [[ -d $CLUSTER_DIR ]]; then
    local port
    for port in $(cluster_ports); do
      show "cluster" "$port" "$CLUSTER_DIR/$port/redis.pid" redis-server node_ping "$port"
    done
  fi
  echo "run dir: $RUN"
  return $bad
}

cmd_stop() {
  local clean=0 pid
  case "${1:-}" in "") ;; --clean) clean=1 ;; *) die "unknown option for stop: $1 (expected --clean)" ;; esac
  if pid=$(live_pid "$PG_DATA/postmaster.pid" postgres); then
    runuser -u postgres -- "$TRIB_PG_BIN/pg_ctl" -D "$PG_DATA" -m fast -w -t "$DEADLINE" stop >/dev/null \
      || die "pg_ctl stop failed for pid $pid (log: $PG_LOG)"
    log "stopped postgresql (pid $pid)"
  fi
  local file name what
  for spec in "$MY_PID:mariadbd:mariadb" "$REDIS_PID:redis-server:redis" "$RTLS_PID:redis-server:redis tls"; do
    IFS=: read -r file name what <<< "$spec"
    if pid=$(live_pid "$file" "$name"); then
      kill -TERM "$pid"
      wait_gone "$file" "$name" "$what"
      log "stopped $what (pid $pid)"
    fi
  done
  cluster_stop
  if (( clean )); then
    case "$RUN" in /|/tmp|/tmp/|"$HOME"|"") die "refusing to delete run dir '$RUN'" ;; esac
    rm -rf "$RUN"
    log "removed $RUN"
  fi
}

cmd_cluster_start() { cluster_start; }
cmd_cluster_stop() { cluster_stop; }

main() {
  local cmd="${1:-}"; shift || true
  case "$cmd" in
    start|stop|cluster-start|cluster-stop)
      [[ $EUID -eq 0 ]] || die "$cmd must run as root (PostgreSQL is run as user postgres through runuser)"
      mkdir -p "$RUN"; chmod 755 "$RUN"
      # Several engineers and test runs may call this at once: one at a time.
      # Every server is launched with fd 9 closed, or it would hold the lock forever.
      exec 9> "$RUN/.servers.lock"
      flock -w 120 9 || die "another servers.sh holds $RUN/.servers.lock for over 120 s"
      "cmd_${cmd//-/_}" "$@" ;;
    status) cmd_status || exit 3 ;;
    *) echo "usage: $0 start | stop [--clean] | status | cluster-start | cluster-stop" >&2; exit 2 ;;
  esac
}

main "$@"
