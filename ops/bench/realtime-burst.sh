#!/usr/bin/env bash
# Realtime memory under a burst: `tributary realtime` streams a table while
# one `psql -f` sends STATEMENTS autocommit statements of ROWS rows each (as
# fast as it goes) into a REPLICA IDENTITY FULL copy of TPC-H `orders`, and
# /usr/bin/time -v reports tributary's peak resident memory. Also reports how
# long the changes took to land and tributary's CPU per change.
#
#   ops/bench/realtime-burst.sh                       insert burst, full messages
#   WORKLOAD=update ops/bench/realtime-burst.sh        the same rows updated
#   LABEL=before TRIB_BUILD_DIR=/tmp/old/build ops/bench/realtime-burst.sh
#
# Environment: STATEMENTS (default 800), ROWS (rows per statement, default
# 100), WORKLOAD (insert | update: the burst inserts fresh rows, or updates
# rows the table already holds, whose full old images then travel too),
# SCHEMA (include-schema, default true), BATCH (batch-size-rows, the
# changes a write holds at most, default 1000), TRIB_BUILD_DIR (default ./build),
# BENCH_WORK (default /tmp/trib-bench-burst), LABEL (in the results file's
# name). Writes ops/bench/results/realtime-burst-<date>-<label>.md. Touches
# only database trib_bench_burst, its slot and Redis keys trib_bench_burst_*
# and replicate_io_*_bench_burst.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# shellcheck source=ops/env.sh
source "$ROOT/ops/env.sh"
die() { echo "realtime-burst.sh: error: $*" >&2; exit 1; }
log() { echo "realtime-burst.sh: $*" >&2; }

STATEMENTS="${STATEMENTS:-800}"
ROWS="${ROWS:-100}"
WORKLOAD="${WORKLOAD:-insert}"
SCHEMA="${SCHEMA:-true}"
BATCH="${BATCH:-1000}"
BUILD="${TRIB_BUILD_DIR:-$ROOT/build}"
TRIB="$BUILD/nodes/tributary"
WORK="${BENCH_WORK:-/tmp/trib-bench-burst}"
DATE="$(date +%Y-%m-%d)"
LABEL="${LABEL:-$(git -C "$ROOT" rev-parse --short HEAD)}"
OUT="${BENCH_OUT:-$ROOT/ops/bench/results/realtime-burst-$DATE-$LABEL.md}"
DB=trib_bench_burst
ID=bench_burst
STREAM="${DB}_public_orders_cdc_logs"
[[ -x $TRIB ]] || die "$TRIB not found: build first (ops/build.sh)"
[[ $WORKLOAD == insert || $WORKLOAD == update ]] || die "WORKLOAD must be insert or update"
bash "$ROOT/ops/servers.sh" start >/dev/null

# shellcheck source=ops/bench/lib.sh
source "$ROOT/ops/bench/lib.sh"
bench_clients
mkdir -p "$WORK" "$ROOT/ops/bench/results"
LOAD_START="$(cut -d" " -f1-3 /proc/loadavg)"

bench_pg_conf "$WORK" "$DB"
printf 'realtime:\n  txn-size-rows: 10000\n  batch-size-rows: %s\nmessage:\n  include-schema: %s\n' \
  "$BATCH" "$SCHEMA" > "$WORK/applier.yaml"

# TPC-H orders' columns and values (as ops/bench/snapshot.sh makes them).
COLUMNS="o_orderkey BIGINT NOT NULL PRIMARY KEY, o_custkey INT NOT NULL,
  o_orderstatus CHAR(1) NOT NULL, o_totalprice DECIMAL(15,2) NOT NULL, o_orderdate DATE NOT NULL,
  o_orderpriority CHAR(15) NOT NULL, o_clerk CHAR(15) NOT NULL, o_shippriority INT NOT NULL,
  o_comment VARCHAR(79) NOT NULL"
values_of() {
  cat <<EOF
SELECT i, (i * 7919) % 150000 + 1, SUBSTR('FOP', CAST(i % 3 AS INTEGER) + 1, 1),
  ((i * 104729) % 50000000 + 90000) * 0.01, DATE '1992-01-01' + CAST((i * 31) % 2406 AS INTEGER),
  CASE i % 5 WHEN 0 THEN '1-URGENT' WHEN 1 THEN '2-HIGH' WHEN 2 THEN '3-MEDIUM'
             WHEN 3 THEN '4-NOT SPECIFIED' ELSE '5-LOW' END,
  CONCAT('Clerk#', LPAD(CAST((i * 13) % 1000 + 1 AS TEXT), 9, '0')), 0,
  SUBSTR('furiously regular deposits sleep slyly. carefully final packages cajole blithely among the quickly ironic accounts. bold requests wake fluffily', CAST((i * 7) % 40 AS INTEGER) + 1, CAST(19 + (i * 11) % 60 AS INTEGER))
FROM generate_series(CAST($1 AS BIGINT), CAST($2 AS BIGINT)) i
EOF
}

log "preparing $DB"
"${PSQL[@]}" -d postgres -c "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = '$DB'" >/dev/null
"${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB"
"${PSQL[@]}" -d "$DB" -c "CREATE TABLE orders ($COLUMNS); ALTER TABLE orders REPLICA IDENTITY FULL"
if [[ $WORKLOAD == update ]]; then
  "${PSQL[@]}" -d "$DB" -c "INSERT INTO orders $(values_of 1 $((STATEMENTS * ROWS)))"
fi
"${RCLI[@]}" --scan --pattern "${DB}_*" | xargs -r "${RCLI[@]}" del >/dev/null
"${RCLI[@]}" --scan --pattern "replicate_io_*_$ID" | xargs -r "${RCLI[@]}" del >/dev/null

# The burst: one autocommit statement per ROWS rows.
: > "$WORK/burst.sql"
for ((s = 0; s < STATEMENTS; s++)); do
  lo=$((s * ROWS + 1)); hi=$(((s + 1) * ROWS))
  if [[ $WORKLOAD == insert ]]; then
    echo "INSERT INTO orders $(values_of $lo $hi);" >> "$WORK/burst.sql"
  else
    echo "UPDATE orders SET o_shippriority = o_shippriority + 1 WHERE o_orderkey BETWEEN $lo AND $hi;" >> "$WORK/burst.sql"
  fi
done
expected=$((STATEMENTS * ROWS))

/usr/bin/time -v -o "$WORK/time.txt" "$TRIB" realtime "$WORK/src.yaml" "$WORK/dst.yaml" \
  --applier "$WORK/applier.yaml" --id "$ID" --data-dir "$WORK/data" --overwrite > "$WORK/run.log" 2>&1 &
pid=$!
for _ in $(seq 1 300); do
  grep -q "starts replication from slot" "$WORK/run.log" && break
  kill -0 $pid 2>/dev/null || { cat "$WORK/run.log" >&2; die "tributary exited"; }
  sleep 0.1
done
trib_pid=$(pgrep -P $pid -f "$TRIB" | head -1)
[[ -n $trib_pid ]] || die "cannot find tributary under /usr/bin/time"
# A failed step must not leave tributary streaming.
trap '[[ -n ${trib_pid:-} ]] && kill -TERM "$trib_pid" 2>/dev/null || true' EXIT

log "$STATEMENTS statements of $ROWS rows ($WORKLOAD), one psql -f"
t0=$(date +%s.%N)
"${PSQL[@]}" -d "$DB" -f "$WORK/burst.sql"
t1=$(date +%s.%N)
for _ in $(seq 1 12000); do
  [[ $("${RCLI[@]}" xlen "$STREAM") -ge $expected ]] && break
  sleep 0.05
done
t2=$(date +%s.%N)
got=$("${RCLI[@]}" xlen "$STREAM")
cpu_ticks=$(awk '{print $14 + $15}' "/proc/$trib_pid/stat")
cpu_us=$(python3 -c "print(round($cpu_ticks / $(getconf CLK_TCK) * 1e6 / max($got, 1), 1))")
kill -TERM "$trib_pid"
wait $pid || die "tributary exited with $? (log: $WORK/run.log)"
trib_pid=
[[ $got -eq $expected ]] || die "$got entries, expected $expected"
"${PSQL[@]}" -d postgres -c "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = '$DB'" >/dev/null

rss_kb=$(sed -n 's/^[[:space:]]*Maximum resident set size (kbytes): \([0-9]*\)/\1/p' "$WORK/time.txt")
rss_mb=$(python3 -c "print(round($rss_kb / 1024, 1))")
src_s=$(python3 -c "print(round($t1 - $t0, 2))")
land_s=$(python3 -c "print(round($t2 - $t0, 2))")
rate=$(python3 -c "print(int($expected / ($t2 - $t0)))")
log "$expected changes: burst sent in $src_s s, all in Redis after $land_s s ($rate changes/s), $cpu_us us CPU per change, peak RSS $rss_mb MB"

{
  echo "# Realtime burst benchmark, $DATE ($LABEL)"
  echo
  echo "Machine: $(nproc) cores, load average $LOAD_START at the start, $(cut -d" " -f1-3 /proc/loadavg) at the end."
  echo "Tributary, PostgreSQL, Redis and psql share the machine. Burst: $STATEMENTS autocommit"
  echo "statements of $ROWS rows each ($WORKLOAD) into a REPLICA IDENTITY FULL copy of TPC-H orders,"
  echo "sent by one \`psql -f\` as fast as it goes, while \`tributary realtime\` streams it"
  echo "(include-schema $SCHEMA, txn-size-rows 10000, batch-size-rows $BATCH). Peak RSS = /usr/bin/time -v's maximum"
  echo "resident set size of the tributary process over the whole run. Landed = time from"
  echo "the burst's start until the stream holds every change."
  if [[ $BUILD == "$ROOT"/* ]]; then
    echo "Build: ${BUILD#$ROOT/}, commit $(git -C "$ROOT" rev-parse --short HEAD) ($LABEL)."
  else
    echo "Build: $BUILD ($LABEL)."
  fi
  echo
  echo "| workload | changes | burst sent (s) | landed (s) | changes/s | CPU µs/change | peak RSS (MB) |"
  echo "|---|---|---|---|---|---|---|"
  echo "| $WORKLOAD | $expected | $src_s | $land_s | $rate | $cpu_us | $rss_mb |"
} | tee "$OUT"
log "wrote $OUT"
