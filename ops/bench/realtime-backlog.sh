#!/usr/bin/env bash
# Realtime CPU on a fixed backlog: starts `tributary realtime`, stops it
# (SIGSTOP) once it streams, runs TXNS pgbench transactions (UPDATE + INSERT,
# the workload of realtime.sh), resumes it and measures its CPU (user +
# system) until both streams hold every change. The same backlog every run,
# so CPU per change compares builds; with `perf` the catch-up is recorded
# (perf record -g) into BENCH_WORK/perf.data.
#
#   ops/bench/realtime-backlog.sh BUILD_DIR full|noschema TXNS [perf]
#   ops/bench/realtime-backlog.sh build noschema 40000
#
# Touches only database trib_prof_rt, its slot and Redis keys trib_prof_rt_*
# and replicate_io_*_prof. BENCH_WORK defaults to /tmp/trib-bench-rt-backlog.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# shellcheck source=ops/env.sh
source "$ROOT/ops/env.sh"
BUILD=$1; MODE=$2; TXNS=$3; PERF=${4:-}
TRIB=$BUILD/nodes/tributary; WORK="${BENCH_WORK:-/tmp/trib-bench-rt-backlog}"; mkdir -p "$WORK"
bash "$ROOT/ops/servers.sh" start >/dev/null
# shellcheck source=ops/bench/lib.sh
source "$ROOT/ops/bench/lib.sh"
bench_clients
DB=trib_prof_rt
bench_pg_conf "$WORK" "$DB"
cat > $WORK/load.sql <<'S'
\set aid random(1, 100000)
\set delta random(-5000, 5000)
BEGIN;
UPDATE accounts SET balance = balance + :delta WHERE id = :aid;
INSERT INTO history (aid, delta, note) VALUES (:aid, :delta, 'mixed workload entry');
END;
S
"${PSQL[@]}" -d postgres -c "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = '$DB'" >/dev/null
"${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB"
"${PSQL[@]}" -d "$DB" -c "CREATE TABLE accounts(id int PRIMARY KEY, balance bigint NOT NULL, owner text);
  INSERT INTO accounts SELECT g, 0, 'owner ' || g FROM generate_series(1, 100000) g;
  CREATE TABLE history(id bigserial PRIMARY KEY, aid int NOT NULL, delta int NOT NULL, note text, at timestamptz DEFAULT now())"
"${RCLI[@]}" --scan --pattern "${DB}_*" | xargs -r "${RCLI[@]}" del >/dev/null
"${RCLI[@]}" --scan --pattern "replicate_io_*_prof" | xargs -r "${RCLI[@]}" del >/dev/null
schema=true; [[ $MODE == noschema ]] && schema=false
printf 'realtime:\n  txn-size-rows: 10000\nmessage:\n  include-schema: %s\n' "$schema" > $WORK/applier.yaml
$TRIB realtime $WORK/src.yaml $WORK/dst.yaml --applier $WORK/applier.yaml --id prof --data-dir $WORK/data --overwrite > $WORK/trib.log 2>&1 &
pid=$!
for _ in $(seq 1 300); do grep -q "starts replication from slot" $WORK/trib.log && break; sleep 0.1; done
kill -STOP $pid
"$TRIB_PG_BIN/pgbench" -n -h 127.0.0.1 -p "$TRIB_PG_PORT" -U "$TRIB_SOURCE_USER" -f $WORK/load.sql -c 4 -j 2 -t $((TXNS/4)) $DB > $WORK/pgbench.txt 2>&1
expected=$(( TXNS * 2 ))
cpu() { awk '{print $14+$15}' /proc/$pid/stat; }
c0=$(cpu); t0=$(date +%s.%N)
if [[ -n $PERF ]]; then perf record -F 999 -g -o $WORK/perf.data -p $pid 2>/dev/null & ppid=$!; sleep 0.3; fi
kill -CONT $pid
len() { echo $(( $("${RCLI[@]}" xlen "${DB}_public_accounts_cdc_logs") + $("${RCLI[@]}" xlen "${DB}_public_history_cdc_logs") )); }
for _ in $(seq 1 6000); do [[ $(len) -ge $expected ]] && break; sleep 0.02; done
t1=$(date +%s.%N); c1=$(cpu)
[[ -n $PERF ]] && { kill -INT $ppid; wait $ppid || true; }
got=$(len)
kill -TERM $pid; wait $pid || echo "exit $?"
hz=$(getconf CLK_TCK)
python3 -c "
cpu=($c1-$c0)/$hz; n=$got
print(f'mode=$MODE changes={n} expected=$expected cpu={cpu:.2f}s us/change={cpu*1e6/n:.1f} wall={$t1-$t0:.2f}s rate={n/($t1-$t0):.0f}/s')"
# The slot would hold WAL back for good.
"${PSQL[@]}" -d postgres -c "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = '$DB'" >/dev/null
