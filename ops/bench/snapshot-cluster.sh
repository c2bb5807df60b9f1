#!/usr/bin/env bash
# Snapshot benchmark against the Redis Cluster of `ops/servers.sh
# cluster-start` (three masters, one replica each) next to the single Redis:
# TABLES tables of ROWS rows in all (TPC-H `orders`-like rows, one stream per
# table, so the streams land on every master) are copied from the local
# PostgreSQL with `tributary snapshot`, once into the single Redis and once
# into the cluster, per message mode. Each run is compared with its own
# ceiling, measured right after it for entries of the sizes it wrote:
#   - single Redis: `redis-benchmark -P 100 -c 4 -r TABLES XADD` (TABLES
#     streams on the one server);
#   - cluster: `redis-benchmark --cluster -P 100 -c 4 -r 1000 XADD` (1000
#     streams spread over the three masters' slots).
# The report gives rows/s and the share of the ceiling side by side. The
# ceilings are plain pipelined XADDs, which Tributary's contract (every write
# a MULTI/EXEC with its checkpoint) cannot reach; ops/bench/snapshot.sh
# measures that gap for the single server. Informative, not judged: the
# machine is shared with other builds, so the load average before and after
# every run is in the report.
#
#   ops/bench/snapshot-cluster.sh                       600,000 rows, 2 rounds
#   ROWS=120000 REPEAT=1 ops/bench/snapshot-cluster.sh  a quick check
#
# Environment: ROWS (default 600000), TABLES (6), REPEAT (2), MODES
# ("noschema full"), CEILING_N (XADDs per ceiling run, default ROWS),
# TRIB_BUILD_DIR, BENCH_WORK (default /tmp/trib-bench-cluster). Writes
# ops/bench/results/snapshot-cluster-DATE.md. Deletes only its own keys
# (bench_cl_*, replicate_io_*_bench_cl_*) and its database bench_cl.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# shellcheck source=ops/env.sh
source "$ROOT/ops/env.sh"
# shellcheck source=ops/bench/lib.sh
source "$ROOT/ops/bench/lib.sh"
PY="$ROOT/ops/bench/bench_report.py"

die() { echo "snapshot-cluster.sh: error: $*" >&2; exit 1; }
log() { echo "snapshot-cluster.sh: $*" >&2; }

ROWS="${ROWS:-600000}"
TABLES="${TABLES:-6}"
REPEAT="${REPEAT:-2}"
MODES="${MODES:-noschema full}"
CEILING_N="${CEILING_N:-$ROWS}"
for v in ROWS TABLES REPEAT CEILING_N; do
  [[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "$v must be a positive integer, got '${!v}'"
done
for m in $MODES; do [[ $m == full || $m == noschema ]] || die "unknown mode '$m' in MODES"; done
TRIB="${TRIB_BUILD_DIR:-$ROOT/build}/nodes/tributary"
[[ -x $TRIB ]] || die "no $TRIB: build it with ops/build.sh --target tributary"
WORK="${BENCH_WORK:-/tmp/trib-bench-cluster}"
OUT="$ROOT/ops/bench/results/snapshot-cluster-$(date +%Y-%m-%d).md"
DB=bench_cl
CPORT=$TRIB_REDIS_CLUSTER_PORT
mkdir -p "$WORK/conf"
bench_clients

LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
bash "$ROOT/ops/servers.sh" start >&2
bash "$ROOT/ops/servers.sh" cluster-start >&2

cluster_ports() { local i; for i in 0 1 2 3 4 5; do echo $((CPORT + i)); done; }
masters() {
  local p
  for p in $(cluster_ports); do
    redis-cli -p "$p" ROLE 2>/dev/null | head -n1 | grep -qx master && echo "$p"
  done
}
# The master that holds key $1.
owner() {
  local p
  for p in $(masters); do [[ $(redis-cli -p "$p" EXISTS "$1") == 1 ]] && { echo "$p"; return; }; done
  die "no master holds $1"
}

# Deletes this benchmark's keys on the single Redis and on every master.
clean() {
  local p k
  for p in "$TRIB_REDIS_PORT" $(masters); do
    for pattern in 'bench_cl_*' 'replicate_io_*bench_cl_*'; do
      redis-cli -p "$p" --scan --pattern "$pattern" | while read -r k; do
        redis-cli -p "$p" DEL "$k" > /dev/null
      done
    done
  done
  rm -rf "$WORK/data"
}

# ------------------------------------------------------------------ source
"${PSQL[@]}" -d postgres -c "SELECT 1" > /dev/null || die "PostgreSQL does not answer"
if ! "${PSQL[@]}" -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$DB'" | grep -q 1; then
  "${PSQL[@]}" -d postgres -c "CREATE DATABASE $DB"
fi
per=$(( ROWS / TABLES ))
for t in $(seq 1 "$TABLES"); do
  have=$("${PSQL[@]}" -d "$DB" -tAc "SELECT count(*) FROM orders_$t" 2>/dev/null || echo -1)
  [[ $have == "$per" ]] && continue
  log "loads orders_$t with $per rows"
  "${PSQL[@]}" -d "$DB" -c "DROP TABLE IF EXISTS orders_$t;
    CREATE TABLE orders_$t (o_orderkey bigint PRIMARY KEY, o_custkey int, o_orderstatus char(1),
      o_totalprice numeric(15,2), o_orderdate date, o_orderpriority text, o_clerk text,
      o_shippriority int, o_comment text);
    INSERT INTO orders_$t SELECT g, g % 150000, (ARRAY['O','F','P'])[1 + g % 3],
      (g % 500000) / 1.7, date '1992-01-01' + (g % 2400), '1-URGENT', 'Clerk#' || lpad((g % 1000)::text, 9, '0'),
      0, md5(g::text) || ' carefully final deposits ' || md5((g * 7)::text)
    FROM generate_series(1, $per) g;
    ANALYZE orders_$t" > /dev/null
done

# ------------------------------------------------------------------ files
{
  echo "allow:"; echo "- catalog: $DB"; echo "  schema: public"; echo "  types: [TABLE]"; echo "  allow:"
  for t in $(seq 1 "$TABLES"); do echo "    orders_$t:"; done
} > "$WORK/conf/filter.yaml"
cat > "$WORK/conf/src.yaml" <<YAML
type: POSTGRESQL
host: 127.0.0.1
port: $TRIB_PG_PORT
database: $DB
username: $TRIB_SOURCE_USER
password: $TRIB_SOURCE_PASSWORD
YAML
cat > "$WORK/conf/single.yaml" <<YAML
type: REDIS_STREAM
host: 127.0.0.1
port: $TRIB_REDIS_PORT
YAML
cat > "$WORK/conf/cluster.yaml" <<YAML
type: REDIS_STREAM
host: 127.0.0.1
port: $CPORT
mode: CLUSTER
cluster-seeds: [127.0.0.1:$((CPORT + 1)), 127.0.0.1:$((CPORT + 2))]
YAML

# ------------------------------------------------------------------ runs
RESULTS="$WORK/results.tsv"
: > "$RESULTS"
FAILED=0

# The ceiling for target $1 and entries of $2 + $3 bytes: sets CEIL.
ceiling() {
  local target=$1 kb=$2 vb=$3 key value args
  key=$(head -c "$kb" /dev/zero | tr '\0' k)
  value=$(head -c "$vb" /dev/zero | tr '\0' v)
  if [[ $target == single ]]; then
    args=(-p "$TRIB_REDIS_PORT" -r "$TABLES")
  else
    args=(--cluster -p "$CPORT" -r 1000)
  fi
  redis-benchmark -h 127.0.0.1 "${args[@]}" -P 100 -c 4 -n "$CEILING_N" --csv \
    XADD 'bench_cl_ceiling:{tag}:__rand_int__' '*' key "$key" value "$value" > "$WORK/rb.csv" 2> "$WORK/rb.err" \
    || { cat "$WORK/rb.err" >&2; die "redis-benchmark failed"; }
  CEIL=$(python3 "$PY" bench-rps "$WORK/rb.csv")
  clean
}

run() {
  local round=$1 target=$2 mode=$3 t0 t1 secs rc=0 load0 load1 len=0 t s port sizes kb vb rate
  cat > "$WORK/conf/applier.yaml" <<YAML
snapshot:
  batch-size-rows: 5000
  skip-tables-on-failures: false
message:
  include-schema: $([[ $mode == full ]] && echo true || echo false)
YAML
  clean
  load0=$(cut -d' ' -f1 /proc/loadavg)
  log "round $round: $target, $mode, $ROWS rows in $TABLES tables (load $load0)"
  t0=$EPOCHREALTIME
  "$TRIB" snapshot "$WORK/conf/src.yaml" "$WORK/conf/$target.yaml" --applier "$WORK/conf/applier.yaml" \
    --filter "$WORK/conf/filter.yaml" --id "bench_cl_$target" --data-dir "$WORK/data" --overwrite \
    > "$WORK/run.$target.$mode.$round.log" 2>&1 || rc=$?
  t1=$EPOCHREALTIME
  load1=$(cut -d' ' -f1 /proc/loadavg)
  secs=$(python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.3f}')" "$t0" "$t1")
  if (( rc != 0 )); then
    tail -n 15 "$WORK/run.$target.$mode.$round.log" >&2
    log "FAILED: tributary exited with code $rc"; FAILED=1; return 0
  fi
  for t in $(seq 1 "$TABLES"); do
    s="${DB}_public_orders_$t"
    port=$TRIB_REDIS_PORT
    [[ $target == cluster ]] && port=$(owner "$s")
    len=$(( len + $(redis-cli -p "$port" XLEN "$s") ))
  done
  [[ $len == "$ROWS" ]] || { log "FAILED: the streams hold $len entries, expected $ROWS"; FAILED=1; return 0; }
  s="${DB}_public_orders_1"
  port=$TRIB_REDIS_PORT
  [[ $target == cluster ]] && port=$(owner "$s")
  sizes=$(python3 "$PY" entry-size 127.0.0.1 "$port" "$s")
  read -r kb vb _ <<< "$sizes"
  rate=$(python3 -c "import sys; print(f'{float(sys.argv[1]) / float(sys.argv[2]):.0f}')" "$ROWS" "$secs")
  ceiling "$target" "$kb" "$vb"
  log "  $secs s, $rate rows/s; entries $kb B + $vb B; ceiling $CEIL entries/s"
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "$target" "$mode" "$secs" "$rate" \
    "$kb" "$vb" "$CEIL" "$load0" "$load1" >> "$RESULTS"
}

for round in $(seq 1 "$REPEAT"); do
  for mode in $MODES; do
    for target in single cluster; do run "$round" "$target" "$mode"; done
  done
done
clean

# ------------------------------------------------------------------ report
python3 - "$RESULTS" "$OUT" "$ROWS" "$TABLES" "$CEILING_N" "$LOAD_START" \
  "$(cut -d' ' -f1-3 /proc/loadavg)" "$(git -C "$ROOT" rev-parse --short HEAD)" "$(nproc)" <<'PY'
import statistics, sys
results, out, rows, tables, ceiling_n, load_start, load_end, commit, cpus = sys.argv[1:]
lines = [l.rstrip("\n").split("\t") for l in open(results) if l.strip()]
by = {}
for r in lines:
    by.setdefault((r[2], r[1]), []).append(r)
md = ["# Snapshot into a Redis Cluster next to one Redis", "",
      f"`ops/bench/snapshot-cluster.sh`, commit {commit}: {int(rows):,} rows of TPC-H `orders`-like "
      f"rows in {tables} tables (one stream each) from the local PostgreSQL, `tributary snapshot` "
      "with batch-size-rows 5000, into the single Redis and into the three-master cluster of "
      "`ops/servers.sh cluster-start` (one replica per master, all on this machine).", "",
      f"Conditions: {cpus} cores shared with other builds and test runs of other work trees "
      f"(load average {load_start} at the start, {load_end} at the end; per run below). "
      "Client, PostgreSQL and all Redis processes share those cores, so the cluster's three "
      "masters cannot use three cores of their own: the figures compare the two targets on this "
      "machine, not what a cluster of real hosts does.", "",
      f"Ceilings, measured right after each run for entries of its sizes, {int(ceiling_n):,} XADDs: "
      f"single Redis `redis-benchmark -P 100 -c 4 -r {tables}`; cluster `redis-benchmark --cluster "
      "-P 100 -c 4 -r 1000` (streams spread over every master).", "",
      "| messages | target | rows/s (median) | ceiling entries/s (median) | % of ceiling (median) | runs (s) | entry key + value B | load per run |",
      "|---|---|---|---|---|---|---|---|"]
for (mode, target), rs in sorted(by.items(), key=lambda kv: (kv[0][0], kv[0][1] != "single")):
    rates = [float(r[4]) for r in rs]
    ceils = [float(r[7]) for r in rs]
    pct = [100 * float(r[4]) / float(r[7]) for r in rs]
    md.append(f"| {'full' if mode == 'full' else 'include-schema: false'} | {target} | "
              f"{statistics.median(rates):,.0f} | {statistics.median(ceils):,.0f} | "
              f"{statistics.median(pct):.0f} % | {', '.join(r[3] for r in rs)} | "
              f"{rs[0][5]} + {rs[0][6]} | {', '.join(r[8] + '-' + r[9] for r in rs)} |")
open(out, "w").write("\n".join(md) + "\n")
print("\n".join(md))
PY
log "wrote $OUT"
(( FAILED == 0 )) || die "a run failed (see above)"
