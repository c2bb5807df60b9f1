#!/usr/bin/env bash
# Realtime benchmark: a sustained mixed workload (pgbench custom script: per
# transaction one UPDATE of `accounts` and one INSERT into `history`) runs
# against the local PostgreSQL while `tributary realtime` streams it into the
# local Redis, once with full messages and once with `include-schema: false`.
# Reports the source's own change rate, Tributary's rate (changes written /
# time until it caught up), and commit-to-ack latency p50/p99/max: for every
# entry, the Redis entry ID's millisecond time (when the write committed)
# minus source.ts_ms (the transaction's commit time), on one machine clock.
#
#   ops/bench/realtime.sh                         20 s of load per mode
#   DURATION=60 CLIENTS=8 ops/bench/realtime.sh
#   RATE=5000 ops/bench/realtime.sh               5,000 transactions/s = 10,000 changes/s
#
# Environment: BENCH_SYNC_COMMIT (synchronous_commit of the load, default on), DURATION (s, default 20), CLIENTS (pgbench clients, default
# 4), RATE (pgbench transactions/s for all clients, default: as fast as
# it goes), MODES ("full noschema"), TRIB_BUILD_DIR (default ./build), BENCH_WORK
# (default /tmp/trib-bench-rt). Writes ops/bench/results/realtime-<date>.md.
# Touches only database trib_bench_rt, slot trib_bench_rt and Redis keys
# trib_bench_rt_* and replicate_io_*_bench_rt_*.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# shellcheck source=ops/env.sh
source "$ROOT/ops/env.sh"
die() { echo "realtime.sh: error: $*" >&2; exit 1; }
log() { echo "realtime.sh: $*" >&2; }

DURATION="${DURATION:-20}"
CLIENTS="${CLIENTS:-4}"
RATE="${RATE:-}"
RATE_ARGS=()
[[ -n $RATE ]] && RATE_ARGS=(-R "$RATE")
MODES="${MODES:-full noschema}"
BUILD="${TRIB_BUILD_DIR:-$ROOT/build}"
TRIB="$BUILD/nodes/tributary"
WORK="${BENCH_WORK:-/tmp/trib-bench-rt}"
DATE="$(date +%Y-%m-%d)"
LOAD_START="$(cut -d" " -f1-3 /proc/loadavg)"
OUT="${BENCH_OUT:-$ROOT/ops/bench/results/realtime-$DATE.md}"
DB=trib_bench_rt
[[ -x $TRIB ]] || die "$TRIB not found: build first (ops/build.sh)"
bash "$ROOT/ops/servers.sh" start >/dev/null

# shellcheck source=ops/bench/lib.sh
source "$ROOT/ops/bench/lib.sh"
bench_clients
mkdir -p "$WORK" "$ROOT/ops/bench/results"

bench_pg_conf "$WORK" "$DB"
cat > "$WORK/load.sql" <<'SQL'
\set aid random(1, 100000)
\set delta random(-5000, 5000)
BEGIN;
UPDATE accounts SET balance = balance + :delta WHERE id = :aid;
INSERT INTO history (aid, delta, note) VALUES (:aid, :delta, 'mixed workload entry');
END;
SQL

# p50/p99/max of (entry ID ms - source.ts_ms) over the given streams.
latency() {
  python3 - "$@" <<'PY'
import json, subprocess, sys
port, streams = sys.argv[1], sys.argv[2:]
lat = []
for s in streams:
    start = "-"
    while True:
        out = subprocess.run(["redis-cli", "-p", port, "--raw", "XRANGE", s, start, "+", "COUNT", "20000"],
                             capture_output=True, text=True, check=True).stdout.split("\n")
        ids = []
        i = 0
        while i + 4 < len(out):
            eid, value = out[i], out[i + 4]
            ids.append(eid)
            i += 5
            if value == "default":
                continue
            v = json.loads(value)
            p = v.get("payload", v) if "schema" in v else v
            lat.append(int(eid.split("-")[0]) - int(p["source"]["ts_ms"]))
        if not ids:
            break
        start = "(" + ids[-1]
lat.sort()
if not lat:
    print("n/a n/a n/a 0"); sys.exit()
q = lambda f: lat[min(len(lat) - 1, int(f * len(lat)))]
print(q(0.50), q(0.99), lat[-1], len(lat))
PY
}

rows=()
for mode in $MODES; do
  id="bench_rt_$mode"
  log "mode $mode: preparing"
  "${PSQL[@]}" -d postgres -c "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = '$DB'" >/dev/null
  "${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB"
  "${PSQL[@]}" -d "$DB" -c "CREATE TABLE accounts(id int PRIMARY KEY, balance bigint NOT NULL, owner text);
    INSERT INTO accounts SELECT g, 0, 'owner ' || g FROM generate_series(1, 100000) g;
    CREATE TABLE history(id bigserial PRIMARY KEY, aid int NOT NULL, delta int NOT NULL, note text, at timestamptz DEFAULT now())"
  "${RCLI[@]}" --scan --pattern "${DB}_*" | xargs -r "${RCLI[@]}" del >/dev/null
  "${RCLI[@]}" --scan --pattern "replicate_io_*_$id" | xargs -r "${RCLI[@]}" del >/dev/null
  schema=true; [[ $mode == noschema ]] && schema=false
  printf 'realtime:\n  txn-size-rows: 10000\nmessage:\n  include-schema: %s\n' "$schema" > "$WORK/applier.yaml"
  "$TRIB" realtime "$WORK/src.yaml" "$WORK/dst.yaml" --applier "$WORK/applier.yaml" --id "$id" \
    --data-dir "$WORK/data" --overwrite > "$WORK/$mode.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 300); do
    grep -q "starts replication from slot" "$WORK/$mode.log" && break
    kill -0 $pid 2>/dev/null || { cat "$WORK/$mode.log" >&2; die "tributary exited"; }
    sleep 0.1
  done
  log "mode $mode: ${DURATION}s of pgbench with $CLIENTS clients"
  t0=$(date +%s.%N)
  # synchronous_commit on (PostgreSQL's default) for the load: the test
  # server runs with it off, and then WAL reaches the walsender only when
  # the WAL writer flushes (wal_writer_delay, 200 ms), which would be
  # measured as Tributary's latency. fsync is off, so the flush is cheap.
  PGOPTIONS="-c synchronous_commit=${BENCH_SYNC_COMMIT:-on}" "$TRIB_PG_BIN/pgbench" -n -h 127.0.0.1 -p "$TRIB_PG_PORT" -U "$TRIB_SOURCE_USER" -f "$WORK/load.sql" \
    -c "$CLIENTS" -j 2 -T "$DURATION" "${RATE_ARGS[@]}" "$DB" > "$WORK/pgbench-$mode.txt" 2>&1
  t1=$(date +%s.%N)
  txns=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$WORK/pgbench-$mode.txt")
  [[ -n $txns ]] || { cat "$WORK/pgbench-$mode.txt" >&2; die "pgbench failed"; }
  expected=$(( txns * 2 ))
  len() { echo $(( $("${RCLI[@]}" xlen "${DB}_public_accounts_cdc_logs") + $("${RCLI[@]}" xlen "${DB}_public_history_cdc_logs") )); }
  for _ in $(seq 1 6000); do
    [[ $(len) -ge $expected ]] && break
    sleep 0.05
  done
  t2=$(date +%s.%N)
  got=$(len)
  # Tributary's CPU (user + system) over the whole run, per change written.
  cpu_ticks=$(awk '{print $14 + $15}' "/proc/$pid/stat")
  cpu_us=$(python3 -c "print(round($cpu_ticks / $(getconf CLK_TCK) * 1e6 / max($got, 1), 1))")
  kill -TERM $pid; wait $pid || die "tributary exited with $? (log: $WORK/$mode.log)"
  [[ $got -eq $expected ]] || die "mode $mode: $got entries, expected $expected"
  read -r p50 p99 max n < <(latency "$TRIB_REDIS_PORT" "${DB}_public_accounts_cdc_logs" "${DB}_public_history_cdc_logs")
  src_rate=$(python3 -c "print(int($expected / ($t1 - $t0)))")
  trib_rate=$(python3 -c "print(int($expected / ($t2 - $t0)))")
  lag=$(python3 -c "print(round($t2 - $t1, 2))")
  rows+=("| $mode | $txns | $expected | $src_rate | $trib_rate | $lag | $cpu_us | $p50 | $p99 | $max |")
  log "mode $mode: source $src_rate changes/s, tributary $trib_rate changes/s, $cpu_us us CPU per change, latency p50 ${p50} ms p99 ${p99} ms max ${max} ms"
done
"${PSQL[@]}" -d postgres -c "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = '$DB'" >/dev/null

{
  echo "# Realtime benchmark, $DATE"
  echo
  echo "Machine: $(nproc) cores, load average $LOAD_START at the start, $(cut -d" " -f1-3 /proc/loadavg) at the end. pgbench"
  echo "${DURATION} s, $CLIENTS clients, rate ${RATE:-unlimited} transactions/s; each transaction = 1 UPDATE of accounts + 1 INSERT"
  echo "into history (2 changes). Tributary, PostgreSQL, Redis and pgbench share the machine."
  echo "Latency = Redis entry ID time - source.ts_ms (commit time), per entry. pgbench runs"
  echo "with synchronous_commit=${BENCH_SYNC_COMMIT:-on} (the test server's default is off, which holds WAL"
  echo "back from the walsender until the WAL writer flushes, up to 200 ms)."
  echo
  echo "CPU = tributary's user + system CPU over the run / changes written."
  echo "Build: ${BUILD#$ROOT/}, commit $(git -C "$ROOT" rev-parse --short HEAD)."
  echo
  echo "| messages | transactions | changes | source changes/s | tributary changes/s | catch-up after load (s) | CPU µs/change | latency p50 (ms) | p99 (ms) | max (ms) |"
  echo "|---|---|---|---|---|---|---|---|---|---|"
  printf '%s\n' "${rows[@]}"
} | tee "$OUT"
log "wrote $OUT"
