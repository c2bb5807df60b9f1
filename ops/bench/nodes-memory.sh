#!/usr/bin/env bash
# Peak memory of a multi-node snapshot (docs/nodes.md): the sample's `orders`
# (ops/sample/load.sh with TRIB_SAMPLE_ORDERS rows) read in the sample
# extractor's 16 split-key ranges (conf/src/postgresql.yaml) by a coordinator
# and one worker on loopback, each process under `/usr/bin/time -f %M`; and
# the same snapshot on one node, for comparison.
#
#   TRIB_SAMPLE_ORDERS=1000000 ops/sample/load.sh   once, to load the sample
#   ops/bench/nodes-memory.sh
#
# Environment: ROWS (default 1000000) is the row count tpch.orders must
# hold; TRIB_BUILD_DIR where nodes/tributary is (default ./build).
# Writes ops/bench/results/nodes-memory-<date>.md and prints it. Exit 1 when a
# run failed, a stream does not hold ROWS entries, or a process peaked over
# the 150 MB the README promises. Touches only Redis keys tpch_* and
# replicate_io_*_bench_nodes_*, and /tmp/trib-bench-nodes.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# shellcheck source=ops/env.sh
source "$ROOT/ops/env.sh"
# shellcheck source=ops/bench/lib.sh
source "$ROOT/ops/bench/lib.sh"

die() { echo "nodes-memory.sh: error: $*" >&2; exit 1; }
log() { echo "nodes-memory.sh: $*" >&2; }

ROWS="${ROWS:-1000000}"
BIN="${TRIB_BUILD_DIR:-$ROOT/build}/nodes/tributary"
WORK=/tmp/trib-bench-nodes
LIMIT_MB=150
[[ -x $BIN ]] || die "$BIN not found: run ops/build.sh"
[[ -x /usr/bin/time ]] || die "/usr/bin/time not found: apt-get install time"

bench_clients
have=$("${PSQL[@]}" -d tpch -Atc "SELECT count(*) FROM orders" 2>/dev/null || echo 0)
[[ $have == "$ROWS" ]] \
  || die "tpch.orders holds $have rows, not $ROWS: run TRIB_SAMPLE_ORDERS=$ROWS ops/sample/load.sh"

rm -rf "$WORK"
mkdir -p "$WORK"
cat > "$WORK/src.yaml" <<YAML
type: POSTGRESQL
host: 127.0.0.1
port: $TRIB_PG_PORT
database: tpch
username: $TRIB_SOURCE_USER
password: $TRIB_SOURCE_PASSWORD
YAML
cat > "$WORK/dst.yaml" <<YAML
type: REDIS_STREAM
host: 127.0.0.1
port: $TRIB_REDIS_PORT
YAML
bash "$ROOT/ops/node-certs.sh" "$WORK/certs" coordinator worker > /dev/null

clean() {
  local keys
  keys=$("${RCLI[@]}" --scan --pattern 'tpch_*'; "${RCLI[@]}" --scan --pattern 'replicate_io_*_bench_nodes_*')
  if [[ -n $keys ]]; then
    # shellcheck disable=SC2086  # one key per word
    "${RCLI[@]}" DEL $keys > /dev/null
  fi
}

# run NAME ARGS...: the snapshot arguments every run shares, then ARGS.
common() {
  echo snapshot "$WORK/src.yaml" "$WORK/dst.yaml" --extractor "$ROOT/conf/src/postgresql.yaml" \
    --filter "$ROOT/conf/filter/postgresql.yaml" --data-dir "$WORK/data"
}

check_stream() {
  local n
  n=$("${RCLI[@]}" XLEN tpch_public_orders)
  [[ $n == "$ROWS" ]] || die "$1: tpch_public_orders holds $n entries, not $ROWS"
}

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
clean
log "one node: snapshot of tpch with orders in 16 ranges"
start=$EPOCHREALTIME
# shellcheck disable=SC2046  # the shared arguments are words
/usr/bin/time -f %M -o "$WORK/single.rss" "$BIN" $(common) --id bench_nodes_single \
  > "$WORK/single.log" 2>&1 || die "the single-node run failed (log: $WORK/single.log)"
single_s=$(python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f}')" "$start" "$EPOCHREALTIME")
check_stream "single node"

clean
log "coordinator + 1 worker: the same snapshot"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
start=$EPOCHREALTIME
# shellcheck disable=SC2046
/usr/bin/time -f %M -o "$WORK/coordinator.rss" "$BIN" coordinator $(common) --id bench_nodes_cluster \
  --listen "127.0.0.1:$port" --node-tls "$WORK/certs/coordinator" --workers 1 \
  > "$WORK/coordinator.log" 2>&1 &
coord=$!
/usr/bin/time -f %M -o "$WORK/worker.rss" "$BIN" worker --join "127.0.0.1:$port" \
  --node-tls "$WORK/certs/worker" > "$WORK/worker.log" 2>&1 &
worker=$!
wait "$coord" || die "the coordinator failed (log: $WORK/coordinator.log)"
wait "$worker" || die "the worker failed (log: $WORK/worker.log)"
cluster_s=$(python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f}')" "$start" "$EPOCHREALTIME")
check_stream "coordinator + worker"
clean

mb() { echo $(( $(tail -1 "$1") / 1024 )); }
single=$(mb "$WORK/single.rss")
coordinator=$(mb "$WORK/coordinator.rss")
worker=$(mb "$WORK/worker.rss")
out="$ROOT/ops/bench/results/nodes-memory-$(date -u +%Y-%m-%d).md"
cat > "$out" <<MD
# Multi-node snapshot memory, $(date -u +%Y-%m-%d)

- Machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.1f GB", $2 / 1048576 }' /proc/meminfo) memory, load average before the runs: $load_before; source, Tributary and Redis on loopback.
- Table: the sample's tpch.orders, $ROWS rows (ops/sample/load.sh), with the sample's customer, nation and region; read in 16 split-key ranges of o_orderkey (conf/src/postgresql.yaml, snapshot.threads 16).
- Command: \`ops/bench/nodes-memory.sh\` at $(git -C "$ROOT" rev-parse --short HEAD).
- Peak RSS: \`/usr/bin/time -f %M\` of each process; limit $LIMIT_MB MB (README).

| run | process | peak RSS MB | seconds |
|---|---|---:|---:|
| one node | tributary snapshot | $single | $single_s |
| coordinator + 1 worker | tributary coordinator snapshot | $coordinator | $cluster_s |
| coordinator + 1 worker | tributary worker | $worker | $cluster_s |
MD
cat "$out"
for v in "$single" "$coordinator" "$worker"; do
  (( v <= LIMIT_MB )) || die "a process peaked at $v MB, over $LIMIT_MB MB"
done
