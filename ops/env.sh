# shellcheck shell=bash
# Where the local test servers of ops/servers.sh live. Source this file; every
# value keeps whatever the caller's environment already set, so two checkouts
# can run side by side on other ports. tests/integration/test_env.hpp has the
# same defaults, so a test binary also runs without this file.

export TRIB_RUN_DIR="${TRIB_RUN_DIR:-/tmp/tributary-run}"
export TRIB_PG_PORT="${TRIB_PG_PORT:-55432}"
export TRIB_MARIADB_PORT="${TRIB_MARIADB_PORT:-53306}"
export TRIB_REDIS_PORT="${TRIB_REDIS_PORT:-56379}"
export TRIB_REDIS_TLS_PORT="${TRIB_REDIS_TLS_PORT:-56380}"
# The Redis Cluster of `ops/servers.sh cluster-start` (not started by
# `start`): six nodes on TRIB_REDIS_CLUSTER_PORT and the five ports after it,
# their cluster bus 100 ports higher. Derived from TRIB_REDIS_PORT so that a
# checkout on other ports gets a cluster on other ports too.
export TRIB_REDIS_CLUSTER_PORT="${TRIB_REDIS_CLUSTER_PORT:-$((TRIB_REDIS_PORT + 600))}"

# Server binaries and the derived paths clients need (sockets, certificates).
export TRIB_PG_BIN="${TRIB_PG_BIN:-/usr/lib/postgresql/15/bin}"
export TRIB_PG_SOCKET_DIR="${TRIB_PG_SOCKET_DIR:-$TRIB_RUN_DIR/pg}"
export TRIB_MARIADB_SOCKET="${TRIB_MARIADB_SOCKET:-$TRIB_RUN_DIR/mariadb.sock}"
export TRIB_TLS_DIR="${TRIB_TLS_DIR:-$TRIB_RUN_DIR/tls}"

# Credentials the servers are set up with (test-only, loopback-only).
export TRIB_SOURCE_USER="${TRIB_SOURCE_USER:-tributary}"
export TRIB_SOURCE_PASSWORD="${TRIB_SOURCE_PASSWORD:-tributary}"
export TRIB_REDIS_ACL_USER="${TRIB_REDIS_ACL_USER:-repl}"
export TRIB_REDIS_ACL_PASSWORD="${TRIB_REDIS_ACL_PASSWORD:-replpw}"
