# shellcheck shell=bash
# What the PostgreSQL realtime benchmarks share (realtime.sh,
# realtime-burst.sh, realtime-backlog.sh): the client commands for the local
# servers and the connection files of a run. Source after ops/env.sh.

# Sets PSQL (psql as the source user) and RCLI (redis-cli on the local Redis).
bench_clients() {
  export PGPASSWORD="$TRIB_SOURCE_PASSWORD"
  # shellcheck disable=SC2034  # read by the sourcing script
  PSQL=("$TRIB_PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$TRIB_PG_PORT" -U "$TRIB_SOURCE_USER")
  # shellcheck disable=SC2034
  RCLI=(redis-cli -p "$TRIB_REDIS_PORT")
}

# bench_pg_conf DIR DB: DIR/src.yaml for database DB with a pgoutput slot
# named DB, and DIR/dst.yaml for the local Redis.
bench_pg_conf() {
  local dir=$1 db=$2
  cat > "$dir/src.yaml" <<YAML
type: POSTGRESQL
host: 127.0.0.1
port: $TRIB_PG_PORT
database: $db
username: $TRIB_SOURCE_USER
password: $TRIB_SOURCE_PASSWORD
replication-slots:
  $db:
    - pgoutput
YAML
  cat > "$dir/dst.yaml" <<YAML
type: REDIS_STREAM
host: 127.0.0.1
port: $TRIB_REDIS_PORT
YAML
}
