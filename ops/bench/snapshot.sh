#!/usr/bin/env bash
# Snapshot benchmark: copies a TPC-H `orders` table of ROWS rows (default
# 1,000,000) from the local PostgreSQL and MariaDB into the local Redis with
# `tributary snapshot`, once with full messages and once with
# `include-schema: false`, and reports rows/s, MB/s and peak RSS against a
# ceiling for the same data, the lower of:
#   - the source's raw read: PostgreSQL `COPY ... TO STDOUT` and a cursor
#     `SELECT` to /dev/null, MariaDB `SELECT` (--quick) to /dev/null;
#   - Redis's pipelined XADD rate (redis-benchmark -P 100, best of 1 and 4
#     clients) for entries whose key and value have the average sizes measured
#     in the stream Tributary just wrote.
# Target: Tributary reaches at least 80 % of the ceiling.
#
# Informative, not judged: a second, "MULTI/EXEC" ceiling, the lower of the
# source's raw read and the rate at which Redis takes the same entries written
# the way Tributary's contract requires (every write atomic with its
# checkpoint), one transaction per batch of 5000 rows: MULTI, the XADDs, HSET of
# the checkpoint, EXEC. Redis spends more CPU per entry inside MULTI/EXEC than
# for plain pipelined XADDs, so no client bound by that contract reaches the
# plain-XADD ceiling; the report gives "% of MULTI/EXEC ceiling" next to
# "% of ceiling".
# It is measured with `redis-cli --pipe` (one connection) reading a RESP file of
# CEILING_N such XADDs, generated once per entry size into BENCH_WORK and
# deleted when the script exits (~1.7 GB for 500,000 full-size entries).
#
# CPU per row, steadier than rates on this shared machine: every run reports
# Tributary's CPU (user + system from the same `/usr/bin/time -v` report) and
# Redis's CPU (used_cpu_user + used_cpu_sys of `INFO cpu`, read right before and
# right after the run) in microseconds per row, the summary their medians; the
# ceilings table gives Redis's CPU per entry of the -c 4 redis-benchmark run and
# of the MULTI/EXEC run, to compare plain XADD, MULTI/EXEC batches and Tributary.
#
# Redis's memory: every measured write (Tributary run, redis-benchmark run,
# MULTI/EXEC pipe) starts after a DEL and MEMORY PURGE, so each faults in the
# pages its entries need from the same state; the report gives Redis's minor
# page faults per 1000 entries for each, to show that they paid alike.
#
# The machine's memory: on a virtual machine whose balloon reports free pages
# to the host, a page the guest has not used for a while may no longer be
# backed by the host, and the first write to it costs many times what an
# ordinary page fault costs (Redis's kernel time then goes to clearing pages).
# Which pages a write gets depends on what ran before it, so right before
# every measured write the script touches and frees WARM_BYTES of memory
# (fallocate of a file in /dev/shm, then rm): every write starts with as many
# recently used free pages as it needs.
#
# Method: the machine is shared and its speed drifts by tens of percent within
# minutes, so a ceiling measured once, minutes away from a run, makes the ratio
# noise. Every run therefore gets its own ceiling: REPEAT rounds, each of which
# measures every source's raw read and then, for every mode, runs Tributary and
# right after it the Redis XADD ceiling, then the MULTI/EXEC one, for that
# run's entry sizes. The report gives the median and the best ratio over the
# rounds per (source, mode), and the median ratio to the MULTI/EXEC ceiling;
# the result column judges the median ratio to the (plain XADD) ceiling.
#
#   ops/bench/snapshot.sh                  the 1,000,000-row run, 3 rounds (a few minutes)
#   ROWS=2000000 ops/bench/snapshot.sh     the same at 2,000,000 rows (peak RSS check)
#   ROWS=100000 REPEAT=2 ops/bench/snapshot.sh   a quick check of the script
#   SPLIT=16 SOURCES=postgresql MODES=full REPEAT=1 ops/bench/snapshot.sh
#                                          orders read in 16 split-key ranges at
#                                          once (the sample extractor's layout)
#
# Environment:
#   ROWS            rows of bench.orders (default 1000000); the table is
#                   regenerated only when its row count differs
#   SOURCES         "postgresql mariadb" (default) or one of them
#   MODES           "full noschema" (default) or one of them
#   SPLIT           0 (default): orders is read whole; N: in N ranges of
#                   o_orderkey by N readers at once (extractor snapshot.threads
#                   N and a split-key), which must keep the peak RSS of one
#                   reader's budget, not N times it
#   REPEAT          rounds (default 3); each round runs every source and mode once
#   CEILING_N       XADD requests per redis-benchmark run and entries per
#                   MULTI/EXEC ceiling (default min(ROWS, 500000))
#   WARM_BYTES      bytes of memory touched and freed right before every
#                   measured write (default ROWS * 4096, about what a full-message
#                   run makes Redis map; 0: none), see "the machine's memory"
#   SKIP_TRIBUTARY  1: measure the ceilings only, REPEAT times (Redis with
#                   representative sizes; the binary still tells the write size)
#   TRIB_BUILD_DIR  where nodes/tributary is (default ./build); its
#                   --print-tuning gives the write size of the ceilings
#   BENCH_WORK      scratch directory (default /tmp/trib-bench); holds the
#                   MULTI/EXEC ceiling's RESP files while the script runs
#                   (up to ~4 GB at the defaults: one per entry size)
# Writes ops/bench/results/snapshot-<date>.md (with -<ROWS> when ROWS is not
# 1,000,000): the summary per (source, mode), every round (rates and CPU per
# row), every ceiling (with Redis's CPU per entry); and
# prints it. Exit code 1 when a run failed, a stream did not hold ROWS entries or
# the MULTI/EXEC ceiling of a run failed (redis-cli --pipe errors, wrong reply
# count, wrong stream length or checkpoint).
#
# Uses the servers of ops/servers.sh (started if needed; ports in ops/env.sh) and
# touches only its own data: databases `bench`, Redis keys bench_orders,
# bench_public_orders, bench_ceiling, bench_ceiling_tx, bench_ceiling_tx_ck and
# replicate_io_*_bench_*.
# shellcheck disable=SC2016  # backticks in single quotes are Markdown, not substitutions
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# shellcheck source=ops/env.sh
source "$ROOT/ops/env.sh"
HERE="$ROOT/ops/bench"
PY="$HERE/bench_report.py"

die() { echo "snapshot.sh: error: $*" >&2; exit 1; }
log() { echo "snapshot.sh: $*" >&2; }
step() { printf '\n== %s\n' "$*" >&2; }

ROWS="${ROWS:-1000000}"
SOURCES="${SOURCES:-postgresql mariadb}"
MODES="${MODES:-full noschema}"
SKIP_TRIBUTARY="${SKIP_TRIBUTARY:-0}"
REPEAT="${REPEAT:-3}"
SPLIT="${SPLIT:-0}"
BATCH=5000
[[ $ROWS =~ ^[1-9][0-9]*$ ]] || die "ROWS must be a positive integer, got '$ROWS'"
[[ $REPEAT =~ ^[1-9][0-9]*$ ]] || die "REPEAT must be a positive integer, got '$REPEAT'"
[[ $SPLIT =~ ^[0-9]+$ ]] || die "SPLIT must be a number of ranges (0: none), got '$SPLIT'"
CEILING_N="${CEILING_N:-$(( ROWS < 500000 ? ROWS : 500000 ))}"
[[ $CEILING_N =~ ^[1-9][0-9]*$ ]] || die "CEILING_N must be a positive integer, got '$CEILING_N'"
WARM_BYTES="${WARM_BYTES:-$(( ROWS * 4096 ))}"
[[ $WARM_BYTES =~ ^[0-9]+$ ]] || die "WARM_BYTES must be a number of bytes, got '$WARM_BYTES'"
WARM_FILE=/dev/shm/trib-bench-warm
for s in $SOURCES; do [[ $s == postgresql || $s == mariadb ]] || die "unknown source '$s' in SOURCES"; done
for m in $MODES; do [[ $m == full || $m == noschema ]] || die "unknown mode '$m' in MODES"; done

BUILD="${TRIB_BUILD_DIR:-$ROOT/build}"
TRIB="$BUILD/nodes/tributary"
WORK="${BENCH_WORK:-/tmp/trib-bench}"
DATE="$(date +%Y-%m-%d)"
OUT_DIR="$HERE/results"
OUT="$OUT_DIR/snapshot-$DATE$( (( ROWS == 1000000 )) || echo "-$ROWS").md"

for tool in mariadb redis-cli redis-benchmark python3; do
  command -v "$tool" >/dev/null || die "$tool not found: run ops/install.sh"
done
[[ -x $TRIB_PG_BIN/psql ]] || die "no psql in $TRIB_PG_BIN: run ops/install.sh (or set TRIB_PG_BIN)"
[[ -x /usr/bin/time ]] || die "/usr/bin/time not found (Debian package 'time'): it measures peak RSS"
# The binary is needed even with SKIP_TRIBUTARY=1: the ceiling writes as
# many bytes per transaction as Tributary does, and the binary says how many.
[[ -x $TRIB ]] || die "no binary at $TRIB: run ops/build.sh (or set TRIB_BUILD_DIR)"
# Tributary's snapshot writes carry about this many bytes (actors/tuning.hpp).
WRITE_BYTES=$("$TRIB" --print-tuning | awk '$1 == "snapshot_write_bytes" { print $2 }')
[[ $WRITE_BYTES =~ ^[1-9][0-9]*$ ]] || die "$TRIB --print-tuning names no snapshot_write_bytes"

mkdir -p "$WORK" "$OUT_DIR"
RESULTS="$WORK/results.tsv"; CEILINGS="$WORK/ceilings.tsv"; ENVF="$WORK/env.tsv"
: > "$RESULTS"; : > "$CEILINGS"
rm -f "$WORK"/bench_*.log

# The MULTI/EXEC ceiling's RESP files are up to ~1.7 GB each: none survives the
# script, however it ends (an interrupted earlier run's are removed here too).
# The memory warm-up's file too (see memory_warm).
tx_files_clean() { rm -f "$WORK"/ceiling_tx.*.resp "$WORK"/ceiling_tx.*.resp.tmp "$WARM_FILE"; }
tx_files_clean
trap tx_files_clean EXIT
trap 'exit 130' INT TERM HUP

export PGPASSWORD="$TRIB_SOURCE_PASSWORD"
pg() {
  "$TRIB_PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$TRIB_PG_PORT" \
    -U "$TRIB_SOURCE_USER" "$@"
}
my() {
  MYSQL_PWD="$TRIB_SOURCE_PASSWORD" mariadb --no-defaults --protocol=TCP -h 127.0.0.1 \
    -P "$TRIB_MARIADB_PORT" -u "$TRIB_SOURCE_USER" "$@"
}
rcli() { redis-cli -h 127.0.0.1 -p "$TRIB_REDIS_PORT" "$@"; }

# Seconds since the epoch with microseconds; the difference of two is a duration.
now() { echo "$EPOCHREALTIME"; }
elapsed() { python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.3f}')" "$1" "$2"; }
rate() { python3 -c "import sys; print(f'{float(sys.argv[1]) / float(sys.argv[2]):.0f}')" "$1" "$2"; }

# ------------------------------------------------------------------ servers

# The machine is shared; the load before the run says how quiet it was.
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
step "servers"
bash "$ROOT/ops/servers.sh" start >&2 || die "ops/servers.sh start failed"

# Deletes this benchmark's own Redis keys, never anyone else's.
redis_clean() {
  local keys
  rcli DEL bench_orders bench_public_orders bench_ceiling bench_ceiling_tx bench_ceiling_tx_ck > /dev/null
  keys=$(rcli --scan --pattern 'replicate_io_*_bench_*')
  if [[ -n $keys ]]; then
    # shellcheck disable=SC2086  # one key per word; our keys have no blanks
    rcli DEL $keys > /dev/null
  fi
  rm -rf "$WORK/data"
}

# The start of every measured write (Tributary run or ceiling), right after its
# keys were deleted. MEMORY PURGE hands the memory Redis freed back to the
# system (jemalloc keeps freed pages for seconds before it returns them), so
# each write starts from the same memory state and pays, as a first snapshot
# into Redis does, for the pages its entries need: a write that starts right
# after a large DEL finds pages still mapped and costs Redis less CPU per
# entry than one that starts a few seconds later. Then the warm-up.
write_start() {
  [[ $(rcli MEMORY PURGE) == OK ]] || die "redis-cli MEMORY PURGE failed"
  memory_warm
}

# Touches WARM_BYTES of memory and frees it (see "The machine's memory" at the
# top): the pages stay on the kernel's free lists, where the next allocations
# find them first. Sets WARM_SECS to how long it took: the kernel clears every
# page, so a slow warm-up says that pages cost more than usual just then.
WARM_SECS=""
memory_warm() {
  local t0 t1
  WARM_SECS=""
  (( WARM_BYTES > 0 )) || return 0
  t0=$(now)
  fallocate -l "$WARM_BYTES" "$WARM_FILE" \
    || { rm -f "$WARM_FILE"; die "could not fallocate $WARM_BYTES bytes in /dev/shm (set WARM_BYTES=0 to skip)"; }
  t1=$(now)
  rm -f "$WARM_FILE"
  WARM_SECS=$(elapsed "$t0" "$t1")
}

# Deletes the keys $@, then write_start: the start of a ceiling measurement.
redis_drop() {
  rcli DEL "$@" > /dev/null
  write_start
}

# Minor page faults Redis has taken so far (/proc/<pid>/stat, field 10); the
# difference of two readings is what it took in between.
REDIS_PID=""
redis_faults() {
  if [[ -z $REDIS_PID ]]; then
    REDIS_PID=$(rcli INFO server | tr -d '\r' | awk -F: '/^process_id:/ { print $2 }')
    [[ -r /proc/$REDIS_PID/stat ]] || die "no /proc/$REDIS_PID/stat for the Redis server (pid from INFO server)"
  fi
  # The command name in parentheses comes first; the fields after it start at 3.
  sed 's/^.*) //' "/proc/$REDIS_PID/stat" | awk '{ print $8 }'
}

redis_used_mb() { rcli INFO memory | awk -F: '/^used_memory:/ { printf "%.0f", $2 / 1048576 }'; }

# CPU seconds Redis has used so far, user + system (all its threads); the
# difference of two readings is what Redis spent in between. redis-cli ends
# INFO lines with \r.
redis_cpu() {
  local info
  info=$(rcli INFO cpu | tr -d '\r') || die "redis-cli INFO cpu failed"
  awk -F: '/^used_cpu_(user|sys):/ { s += $2; n++ }
           END { if (n != 2) exit 1; printf "%.6f\n", s }' <<< "$info" \
    || die "no used_cpu_user and used_cpu_sys in Redis's INFO cpu"
}

# Full messages are ~4.6 KB a row, and Redis keeps ~1.3x that: refuse to start a
# run that would push the machine into the OOM killer.
check_memory() {
  local need_mb avail_mb
  need_mb=$(( ROWS * 6 / 1000 + 512 ))
  avail_mb=$(awk '/^MemAvailable:/ { printf "%.0f", $2 / 1024 }' /proc/meminfo)
  (( avail_mb > need_mb )) \
    || die "about ${need_mb} MB of free memory needed for $ROWS full entries in Redis, only ${avail_mb} MB available"
}
redis_clean
check_memory

# ------------------------------------------------------------------ data

# The columns of TPC-H orders as expressions over the row number i, identical
# in both dialects but for dates and the text type ($1 date expression, $2
# text type). Values are deterministic; comments vary in length (19 to 78
# characters, about 48 on average as in TPC-H).
orders_select() {
  local date=$1 txt=$2
  local words='furiously regular deposits sleep slyly. carefully final packages cajole blithely among the quickly ironic accounts. bold requests wake fluffily'
  cat <<EOF
SELECT i,
  (i * 7919) % 150000 + 1,
  SUBSTR('FOP', CAST(i % 3 AS INTEGER) + 1, 1),
  ((i * 104729) % 50000000 + 90000) * 0.01,
  $date,
  CASE i % 5 WHEN 0 THEN '1-URGENT' WHEN 1 THEN '2-HIGH' WHEN 2 THEN '3-MEDIUM'
             WHEN 3 THEN '4-NOT SPECIFIED' ELSE '5-LOW' END,
  CONCAT('Clerk#', LPAD(CAST((i * 13) % 1000 + 1 AS $txt), 9, '0')),
  0,
  SUBSTR('$words', CAST((i * 7) % 40 AS INTEGER) + 1, CAST(19 + (i * 11) % 60 AS INTEGER))
EOF
}

ORDERS_COLUMNS="o_orderkey BIGINT NOT NULL PRIMARY KEY, o_custkey INT NOT NULL,
  o_orderstatus CHAR(1) NOT NULL, o_totalprice DECIMAL(15,2) NOT NULL, o_orderdate DATE NOT NULL,
  o_orderpriority CHAR(15) NOT NULL, o_clerk CHAR(15) NOT NULL, o_shippriority INT NOT NULL,
  o_comment VARCHAR(79) NOT NULL"

load_postgresql() {
  step "postgresql: bench.public.orders with $ROWS rows"
  if [[ -z $(pg -d postgres -Atc "SELECT 1 FROM pg_database WHERE datname = 'bench'") ]]; then
    pg -d postgres -c "CREATE DATABASE bench" || die "could not create postgresql database bench"
  fi
  pg -d bench -c "SET client_min_messages = warning" -c "CREATE TABLE IF NOT EXISTS orders ($ORDERS_COLUMNS)" || die "could not create bench.public.orders"
  local have
  have=$(pg -d bench -Atc "SELECT count(*) || ' ' || coalesce(max(o_orderkey), 0) FROM orders")
  if [[ $have == "$ROWS $ROWS" ]]; then
    log "postgresql: bench.public.orders already holds $ROWS rows, kept"
    return 0
  fi
  local t0 t1
  t0=$(now)
  pg -d bench <<EOF || die "could not load bench.public.orders"
TRUNCATE orders;
INSERT INTO orders
$(orders_select "DATE '1992-01-01' + CAST((i * 31) % 2406 AS INTEGER)" TEXT)
FROM generate_series(CAST(1 AS BIGINT), $ROWS) AS g(i);
VACUUM (ANALYZE) orders;
EOF
  t1=$(now)
  log "postgresql: loaded $ROWS rows in $(elapsed "$t0" "$t1") s"
}

load_mariadb() {
  step "mariadb: bench.orders with $ROWS rows"
  my -e "CREATE DATABASE IF NOT EXISTS bench; CREATE TABLE IF NOT EXISTS bench.orders ($ORDERS_COLUMNS) ENGINE=InnoDB" \
    || die "could not create bench.orders in mariadb"
  local have
  have=$(my -N -B -e "SELECT CONCAT(COUNT(*), ' ', COALESCE(MAX(o_orderkey), 0)) FROM bench.orders")
  if [[ $have == "$ROWS $ROWS" ]]; then
    log "mariadb: bench.orders already holds $ROWS rows, kept"
    return 0
  fi
  local t0 t1
  t0=$(now)
  # sql_log_bin=0: the bulk load stays out of the binlog, which the realtime
  # tests read; a snapshot does not need it.
  my bench > /dev/null <<EOF || die "could not load bench.orders in mariadb"
SET SESSION sql_log_bin = 0;
TRUNCATE orders;
INSERT INTO orders
$(orders_select "DATE '1992-01-01' + INTERVAL ((i * 31) % 2406) DAY" CHAR)
FROM (SELECT seq AS i FROM seq_1_to_$ROWS) AS g;
ANALYZE TABLE orders;
EOF
  t1=$(now)
  log "mariadb: loaded $ROWS rows in $(elapsed "$t0" "$t1") s"
}

for s in $SOURCES; do "load_$s"; done

# ------------------------------------------------------------------ source ceilings

# Best of two timed runs of "$@" (the first also warms the caches); prints rows/s.
best_rate() {
  local best=0 t0 t1 r
  for _ in 1 2; do
    t0=$(now)
    "$@" > /dev/null || die "ceiling command failed: $*"
    t1=$(now)
    r=$(rate "$ROWS" "$(elapsed "$t0" "$t1")")
    (( r > best )) && best=$r
  done
  echo "$best"
}

# The source ceiling is the fastest way the server hands the rows out. Measured
# once per source per round, just before that source's runs of the round: it
# costs a few seconds, and it keeps the source side as close in time to the runs
# as the Redis side. Sets SRC_CEIL[$2]; records ceiling lines for round $1.
declare -A SRC_CEIL
source_ceiling() {
  local round=$1 src=$2 copy_rps select_rps
  if [[ $src == postgresql ]]; then
    copy_rps=$(best_rate pg -d bench -c "COPY orders TO STDOUT")
    select_rps=$(best_rate pg -d bench -At -v FETCH_COUNT=5000 -c "SELECT * FROM orders")
    printf '%s\tpostgresql COPY\t`COPY orders TO STDOUT` > /dev/null (psql, TCP)\t%s\t\t\t\n' \
      "$round" "$copy_rps" >> "$CEILINGS"
    printf '%s\tpostgresql SELECT\t`SELECT * FROM orders` > /dev/null (psql, FETCH_COUNT=5000, TCP)\t%s\t\t\t\n' \
      "$round" "$select_rps" >> "$CEILINGS"
    SRC_CEIL[postgresql]=$(( copy_rps > select_rps ? copy_rps : select_rps ))
    log "postgresql: raw read of $ROWS rows: COPY $copy_rps rows/s, SELECT $select_rps rows/s"
  else
    select_rps=$(best_rate my --quick -B -e "SELECT * FROM bench.orders")
    printf '%s\tmariadb SELECT\t`SELECT * FROM bench.orders` > /dev/null (mariadb --quick, TCP)\t%s\t\t\t\n' \
      "$round" "$select_rps" >> "$CEILINGS"
    SRC_CEIL[mariadb]=$select_rps
    log "mariadb: raw read of $ROWS rows: SELECT $select_rps rows/s"
  fi
}

# ------------------------------------------------------------------ Redis ceiling

# Pipelined XADD rate (-P 100) of entries with a key of $2 bytes and a value of
# $3 bytes into one stream, as Tributary writes one stream per table; best of
# 1 and 4 connections. Sets REDIS_CEIL (entries/s) and records a ceiling line
# named $4 for round $1, with Redis's CPU per entry of the -c 4 run (the one
# that is usually the best). Never cached: the rate drifts with the machine,
# and the point is to measure it next to the run it is compared with.
REDIS_CEIL=0
redis_ceiling() {
  local round=$1 kb=$2 vb=$3 name=$4 key value c rps best=0 detail="" cpu0 cpu1 cpu_us=""
  local f0 f1 faults="" len warm=""
  key=$(head -c "$kb" /dev/zero | tr '\0' k)
  value=$(head -c "$vb" /dev/zero | tr '\0' v)
  for c in 1 4; do
    redis_drop bench_ceiling
    f0=$(redis_faults)
    cpu0=$(redis_cpu)
    redis-benchmark -h 127.0.0.1 -p "$TRIB_REDIS_PORT" -P 100 -c "$c" -n "$CEILING_N" --csv \
      XADD bench_ceiling '*' key "$key" value "$value" > "$WORK/redis-benchmark.csv" 2> "$WORK/redis-benchmark.err" \
      || { cat "$WORK/redis-benchmark.err" >&2; die "redis-benchmark failed"; }
    cpu1=$(redis_cpu)
    f1=$(redis_faults)
    # Per entry the stream holds: with -P, redis-benchmark may send a few more
    # than -n.
    if (( c == 4 )); then
      warm=$WARM_SECS
      len=$(rcli XLEN bench_ceiling)
      cpu_us=$(python3 "$PY" cpu-us "$cpu0" "$cpu1" "$len")
      faults=$(python3 "$PY" per-k "$f0" "$f1" "$len")
    fi
    rps=$(python3 "$PY" bench-rps "$WORK/redis-benchmark.csv")
    (( rps > best )) && best=$rps
    detail+="${detail:+, }-c $c: $rps"
  done
  rcli DEL bench_ceiling > /dev/null
  printf '%s\t%s\t`redis-benchmark -P 100 -n %s XADD` key %s B + value %s B (%s)\t%s\t%s\t%s\t%s\n' \
    "$round" "$name" "$CEILING_N" "$kb" "$vb" "$detail" "$best" "$cpu_us" "$faults" "$warm" >> "$CEILINGS"
  log "redis: XADD key ${kb} B + value ${vb} B: $detail entries/s; Redis CPU $cpu_us µs/entry, $faults page faults per 1000 entries (-c 4)"
  REDIS_CEIL=$best
}

# The same entries written as Tributary's contract requires every write: one
# transaction per write of about $WRITE_BYTES, `MULTI; XADD bench_ceiling_tx * key <k> value
# <v> (one per entry); HSET bench_ceiling_tx_ck bench_ceiling_tx <entries so far>;
# EXEC`, CEILING_N entries with a key of $2 bytes and a value of $3 bytes, sent
# by `redis-cli --pipe` over one connection. The RESP file is generated once per
# size and read once before the timed pipe, so the timing measures Redis, not
# Python or the disk. Sets TX_CEIL (entries/s) and records a ceiling line named
# $4 for round $1, with Redis's CPU per entry over the pipe; on failure sets
# TX_ERR to what failed instead (the caller fails the run).
TX_STREAM=bench_ceiling_tx
TX_CK=bench_ceiling_tx_ck
TX_CEIL=0
TX_ERR=""
tx_ceiling() {
  local round=$1 kb=$2 vb=$3 name=$4 file batches want rc=0 t0 t1 secs len pos cpu0 cpu1 cpu_us
  local f0 f1 faults warm
  local re='errors: ([0-9]+), replies: ([0-9]+)' errors replies txn
  local out="$WORK/redis-pipe.out" err="$WORK/redis-pipe.err"
  TX_CEIL=0; TX_ERR=""
  # As many entries per transaction as one of Tributary's writes carries: it
  # fills a write until its RESP bytes (entry bytes plus about 70 of framing
  # each) reach WRITE_BYTES, and never beyond a batch.
  txn=$(( (WRITE_BYTES + kb + vb + 70 - 1) / (kb + vb + 70) ))
  (( txn > BATCH )) && txn=$BATCH
  file="$WORK/ceiling_tx.k$kb.v$vb.n$CEILING_N.b$txn.resp"
  if [[ ! -e $file ]]; then
    python3 "$PY" tx-resp "$file" "$kb" "$vb" "$CEILING_N" "$txn" "$TX_STREAM" "$TX_CK" \
      || { TX_ERR="could not generate $file"; return 0; }
  fi
  cat "$file" > /dev/null
  # Replies: +OK to MULTI, +QUEUED to every XADD and to HSET, EXEC's array.
  batches=$(( (CEILING_N + txn - 1) / txn ))
  want=$(( CEILING_N + 3 * batches ))
  redis_drop "$TX_STREAM" "$TX_CK"
  warm=$WARM_SECS
  f0=$(redis_faults)
  cpu0=$(redis_cpu)
  t0=$(now)
  rcli --pipe < "$file" > "$out" 2> "$err" || rc=$?
  t1=$(now)
  cpu1=$(redis_cpu)
  f1=$(redis_faults)
  secs=$(elapsed "$t0" "$t1")
  len=$(rcli XLEN "$TX_STREAM")
  pos=$(rcli HGET "$TX_CK" "$TX_STREAM")
  rcli DEL "$TX_STREAM" "$TX_CK" > /dev/null
  if [[ $(< "$out") =~ $re ]]; then
    errors=${BASH_REMATCH[1]}; replies=${BASH_REMATCH[2]}
  else
    errors=unknown; replies=unknown
  fi
  # EXEC reports an error inside a transaction in its array, which --pipe does
  # not count: the stream's length and the checkpoint tell that every entry
  # committed.
  if (( rc != 0 )) || [[ $errors != 0 || $replies != "$want" || $len != "$CEILING_N" || $pos != "$CEILING_N" ]]; then
    head -n 5 "$err" >&2
    TX_ERR="redis-cli --pipe exit code $rc, errors $errors, replies $replies (expected 0 and $want), XLEN $len and checkpoint ${pos:-none} (expected $CEILING_N)"
    return 0
  fi
  TX_CEIL=$(rate "$CEILING_N" "$secs")
  cpu_us=$(python3 "$PY" cpu-us "$cpu0" "$cpu1" "$CEILING_N")
  faults=$(python3 "$PY" per-k "$f0" "$f1" "$CEILING_N")
  printf '%s\t%s\t`redis-cli --pipe` of MULTI + %s XADD + HSET checkpoint + EXEC per batch, %s entries, key %s B + value %s B (one connection, %s s)\t%s\t%s\t%s\t%s\n' \
    "$round" "$name" "$txn" "$CEILING_N" "$kb" "$vb" "$secs" "$TX_CEIL" "$cpu_us" "$faults" "$warm" >> "$CEILINGS"
  log "redis: MULTI/EXEC of $txn XADD key ${kb} B + value ${vb} B: $TX_CEIL entries/s; Redis CPU $cpu_us µs/entry, $faults page faults per 1000 entries"
}

# ------------------------------------------------------------------ tributary runs

stream_of() { [[ $1 == postgresql ]] && echo bench_public_orders || echo bench_orders; }

# Writes the temporary configuration files of one run into $WORK/conf.
write_confs() {
  local src=$1 mode=$2 c="$WORK/conf"
  mkdir -p "$c"
  if [[ $src == postgresql ]]; then
    cat > "$c/src.yaml" <<EOF
type: POSTGRESQL
host: 127.0.0.1
port: $TRIB_PG_PORT
database: 'bench'
username: '$TRIB_SOURCE_USER'
password: '\${TRIB_SOURCE_PASSWORD}'
max-connections: 30
EOF
    cat > "$c/filter.yaml" <<EOF
allow:
- catalog: bench
  schema: public
  types: [TABLE]
  allow:
    orders:
EOF
  else
    cat > "$c/src.yaml" <<EOF
type: MARIADB
host: 127.0.0.1
port: $TRIB_MARIADB_PORT
username: '$TRIB_SOURCE_USER'
password: '\${TRIB_SOURCE_PASSWORD}'
slave-server-ids: [191]
max-connections: 30
EOF
    cat > "$c/filter.yaml" <<EOF
allow:
- catalog: bench
  types: [TABLE]
  allow:
    orders:
EOF
  fi
  cat > "$c/dst.yaml" <<EOF
type: REDIS_STREAM
host: 127.0.0.1
port: $TRIB_REDIS_PORT
max-connections: 30
EOF
  local schema_line=""
  [[ $src == postgresql ]] && schema_line="    schema: public"
  if (( SPLIT > 0 )); then
    cat > "$c/extractor.yaml" <<EOF
snapshot:
  threads: $SPLIT
  per-table-config:
  - catalog: bench
$schema_line
    tables:
      orders:
        split-key: o_orderkey
EOF
  else
    rm -f "$c/extractor.yaml"
  fi
  cat > "$c/applier.yaml" <<EOF
snapshot:
  batch-size-rows: $BATCH
  skip-tables-on-failures: false
message:
  include-schema: $([[ $mode == full ]] && echo true || echo false)
EOF
}

# One Tributary run of round $1 for source $2 and mode $3, then the Redis XADD
# and MULTI/EXEC ceilings for the entries it wrote. Appends a line to $RESULTS:
# round, load average before the run, source, messages, rows, seconds, peak RSS
# kB, key bytes, value bytes, source ceiling, Redis ceiling, Redis MULTI/EXEC
# ceiling, Tributary CPU seconds (user + system), Redis CPU seconds and Redis
# minor page faults during the run, seconds of the memory warm-up before it
# (empty without one), status.
FAILED=0
run_tributary() {
  local round=$1 src=$2 mode=$3
  local id="bench_${src}_$mode" stream rc=0 secs rss len sizes kb vb t0 t1 load
  local tcpu rcpu0 rcpu1 rcpu f0 f1 faults warm
  local c="$WORK/conf" label runlog="$WORK/bench_${src}_$mode.round$round.log"
  label=$([[ $mode == full ]] && echo "full" || echo "include-schema: false")
  local extractor=()
  if (( SPLIT > 0 )); then
    label="$label, $SPLIT ranges"
    extractor=(--extractor "$c/extractor.yaml")
  fi
  stream=$(stream_of "$src")
  step "round $round/$REPEAT: tributary snapshot: $src, $label, $ROWS rows (id $id)"
  redis_clean
  write_confs "$src" "$mode"
  write_start
  warm=$WARM_SECS
  load=$(cut -d' ' -f1 /proc/loadavg)
  log "redis uses $(redis_used_mb) MB before the run; load average $load"
  # /usr/bin/time reports the peak RSS and Tributary's CPU time; the wall clock
  # comes from the shell, whose resolution is finer than time's 10 ms. Redis's
  # CPU is read right before and right after, outside the timed span.
  f0=$(redis_faults)
  rcpu0=$(redis_cpu)
  t0=$(now)
  /usr/bin/time -v -o "$WORK/time.txt" "$TRIB" snapshot "$c/src.yaml" "$c/dst.yaml" \
    --applier "$c/applier.yaml" --filter "$c/filter.yaml" "${extractor[@]}" \
    --id "$id" --data-dir "$WORK/data" --overwrite > "$runlog" 2>&1 || rc=$?
  t1=$(now)
  rcpu1=$(redis_cpu)
  f1=$(redis_faults)
  faults=$(( f1 - f0 ))
  secs=$(elapsed "$t0" "$t1")
  rcpu=$(python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.6f}')" "$rcpu0" "$rcpu1")
  read -r _ rss tcpu < <(python3 "$PY" time-v "$WORK/time.txt")
  if (( rc != 0 )); then
    echo "--- last lines of $runlog" >&2; tail -n 15 "$runlog" >&2
    log "FAILED: tributary exited with code $rc for $src ($label), round $round"
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t0\t0\t0\t0\t0\t%s\t%s\t%s\t%s\texit code %s\n' \
      "$round" "$load" "$src" "$label" "$ROWS" "$secs" "$rss" "$tcpu" "$rcpu" "$faults" "$warm" "$rc" >> "$RESULTS"
    FAILED=1; redis_clean; return 0
  fi
  len=$(rcli XLEN "$stream")
  if [[ $len != "$ROWS" ]]; then
    log "FAILED: stream $stream holds $len entries after the run, expected $ROWS (round $round, log $runlog)"
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t0\t0\t0\t0\t0\t%s\t%s\t%s\t%s\tXLEN %s != %s\n' \
      "$round" "$load" "$src" "$label" "$ROWS" "$secs" "$rss" "$tcpu" "$rcpu" "$faults" "$warm" "$len" "$ROWS" >> "$RESULTS"
    FAILED=1; redis_clean; return 0
  fi
  sizes=$(python3 "$PY" entry-size 127.0.0.1 "$TRIB_REDIS_PORT" "$stream")
  read -r kb vb _ <<< "$sizes"
  log "done in $secs s ($(rate "$ROWS" "$secs") rows/s), peak RSS $(( rss / 1024 )) MB, XLEN $len, entries average key $kb B + value $vb B; redis uses $(redis_used_mb) MB"
  log "CPU: tributary $tcpu s ($(python3 "$PY" cpu-us 0 "$tcpu" "$ROWS") µs/row), redis $rcpu s ($(python3 "$PY" cpu-us 0 "$rcpu" "$ROWS") µs/entry, $(python3 "$PY" per-k 0 "$faults" "$ROWS") page faults per 1000 entries)"
  redis_clean
  # The ceiling this run is compared with, measured right after it.
  redis_ceiling "$round" "$kb" "$vb" "redis XADD, $src $label entries"
  tx_ceiling "$round" "$kb" "$vb" "redis MULTI/EXEC XADD, $src $label entries"
  if [[ -n $TX_ERR ]]; then
    log "FAILED: MULTI/EXEC ceiling after $src ($label), round $round: $TX_ERR"
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t0\t%s\t%s\t%s\t%s\tMULTI/EXEC ceiling: %s\n' \
      "$round" "$load" "$src" "$label" "$ROWS" "$secs" "$rss" "$kb" "$vb" \
      "${SRC_CEIL[$src]}" "$REDIS_CEIL" "$tcpu" "$rcpu" "$faults" "$warm" "$TX_ERR" >> "$RESULTS"
    FAILED=1; return 0
  fi
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\tok\n' \
    "$round" "$load" "$src" "$label" "$ROWS" "$secs" "$rss" "$kb" "$vb" \
    "${SRC_CEIL[$src]}" "$REDIS_CEIL" "$TX_CEIL" "$tcpu" "$rcpu" "$faults" "$warm" >> "$RESULTS"
}

# The rounds are only comparable if they ran the same binary: note its
# modification time, and warn when it changes under the benchmark (a rebuild
# in the same tree while it runs).
bin_mtime() { if [[ -e $TRIB ]]; then stat -c %y "$TRIB" | cut -d. -f1; else echo none; fi; }
BIN_BEFORE=$(bin_mtime)

for (( round = 1; round <= REPEAT; round++ )); do
  for s in $SOURCES; do
    step "round $round/$REPEAT: $s raw read of $ROWS rows to /dev/null"
    source_ceiling "$round" "$s"
    if [[ $SKIP_TRIBUTARY == 1 ]]; then continue; fi
    for m in $MODES; do run_tributary "$round" "$s" "$m"; done
  done
  if [[ $SKIP_TRIBUTARY == 1 ]]; then
    step "round $round/$REPEAT: redis ceilings with representative entry sizes (SKIP_TRIBUTARY=1)"
    # Sizes of the stack notes: full message ~250 B key + ~4 KB value,
    # include-schema false ~60 B key + ~650 B value.
    for sizes in "250 4100 full-size" "60 650 include-schema false"; do
      read -r kb vb what <<< "$sizes"
      redis_ceiling "$round" "$kb" "$vb" "redis XADD, $what entries (representative)"
      tx_ceiling "$round" "$kb" "$vb" "redis MULTI/EXEC XADD, $what entries (representative)"
      [[ -z $TX_ERR ]] || die "MULTI/EXEC ceiling, $what entries: $TX_ERR"
    done
  fi
done
redis_clean
BIN_AFTER=$(bin_mtime)
if [[ $SKIP_TRIBUTARY != 1 && $BIN_AFTER != "$BIN_BEFORE" ]]; then
  log "WARNING: $TRIB changed during the benchmark ($BIN_BEFORE, then $BIN_AFTER): the rounds may have run different builds"
fi

# ------------------------------------------------------------------ report

# The command that reproduces this report: the settings that differ from the
# defaults, then the script.
command_line() {
  local prefix=""
  (( ROWS == 1000000 )) || prefix+="ROWS=$ROWS "
  [[ $SOURCES == "postgresql mariadb" ]] || prefix+="SOURCES=\"$SOURCES\" "
  [[ $MODES == "full noschema" ]] || prefix+="MODES=\"$MODES\" "
  (( REPEAT == 3 )) || prefix+="REPEAT=$REPEAT "
  (( SPLIT == 0 )) || prefix+="SPLIT=$SPLIT "
  (( CEILING_N == (ROWS < 500000 ? ROWS : 500000) )) || prefix+="CEILING_N=$CEILING_N "
  (( WARM_BYTES == ROWS * 4096 )) || prefix+="WARM_BYTES=$WARM_BYTES "
  [[ $SKIP_TRIBUTARY != 1 ]] || prefix+="SKIP_TRIBUTARY=1 "
  echo "${prefix}ops/bench/snapshot.sh"
}

mem_total=$(awk '/^MemTotal:/ { printf "%.1f GB", $2 / 1048576 }' /proc/meminfo)
cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
commit=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
# Uncommitted changes outside ops/ may be in the binary the commit does not
# describe; Markdown files never are.
if [[ -n $(git -C "$ROOT" status --porcelain --untracked-files=no -- . ':(exclude)ops' ':(exclude)*.md' 2>/dev/null) ]]; then
  commit+=" with uncommitted changes"
fi
{
  printf 'date\t%s\n' "$DATE"
  printf 'cpu\t%s\n' "${cpu:-unknown CPU}"
  printf 'nproc\t%s\n' "$(nproc)"
  printf 'mem\t%s\n' "$mem_total"
  printf 'load\t%s\n' "$LOAD_BEFORE"
  printf 'redis\t%s\n' "$(redis-server --version | awk '{ print $1, $2, $3 }')"
  printf 'psql\t%s\n' "$("$TRIB_PG_BIN/psql" --version)"
  printf 'mariadb\t%s\n' "$(mariadb --version | sed 's/,.*//')"
  printf 'settings\t%s\n' "PostgreSQL shared_buffers $(pg -d bench -Atc 'SHOW shared_buffers'), MariaDB innodb_buffer_pool_size $(( $(my -N -e 'SELECT @@innodb_buffer_pool_size') / 1048576 )) MB, Redis stream-node-max-bytes $(rcli CONFIG GET stream-node-max-bytes | tail -n 1), appendonly $(rcli CONFIG GET appendonly | tail -n 1)"
  printf 'commit\t%s\n' "$commit"
  printf 'rows\t%s\n' "$ROWS"
  printf 'batch\t%s\n' "$BATCH"
  printf 'write_bytes\t%s\n' "$WRITE_BYTES"
  printf 'tuning\t%s\n' "$("$TRIB" --print-tuning | paste -sd ' ')"
  printf 'warm_bytes\t%s\n' "$WARM_BYTES"
  printf 'repeat\t%s\n' "$REPEAT"
  printf 'skip\t%s\n' "$SKIP_TRIBUTARY"
  printf 'binary\t%s\n' "$BIN_BEFORE"
  printf 'binary_after\t%s\n' "$BIN_AFTER"
  printf 'command\t%s\n' "$(command_line)"
} > "$ENVF"
python3 "$PY" table "$RESULTS" "$CEILINGS" "$ENVF" > "$OUT.tmp"
mv "$OUT.tmp" "$OUT"
echo
cat "$OUT"
echo
log "report written to ${OUT#"$ROOT"/}"
(( FAILED == 0 )) || die "some runs failed (see FAILED above and the logs in $WORK)"
