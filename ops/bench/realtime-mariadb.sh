#!/usr/bin/env bash
# Realtime benchmark for MariaDB: a burst of STATEMENTS autocommit INSERTs of
# 10 rows each (one mariadb client, as fast as it goes) into a table of the
# local MariaDB while `tributary realtime` streams it into the local Redis
# (include-schema: false). Reports the source's change rate, Tributary's
# (changes written / time until it caught up), Tributary's CPU per change and
# peak RSS (/usr/bin/time -v), and statement-to-entry latency p50/p99/max:
# the Redis entry ID's millisecond time minus the row's `at` column
# (NOW(6) when the statement ran). The binlog's own timestamps have whole
# seconds only, so source.ts_ms cannot measure milliseconds.
#
#   ops/bench/realtime-mariadb.sh                  8,000 statements (80,000 changes)
#   STATEMENTS=20000 ops/bench/realtime-mariadb.sh
#   RATE=10000 ops/bench/realtime-mariadb.sh       paced at 10,000 changes/s
#
# Touches only database trib_bench_my, Redis keys trib_bench_my_* and
# replicate_io_*_bench_my. Prints one Markdown table row set to stdout.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# shellcheck source=ops/env.sh
source "$ROOT/ops/env.sh"
die() { echo "realtime-mariadb.sh: error: $*" >&2; exit 1; }

STATEMENTS="${STATEMENTS:-8000}"
RATE="${RATE:-}"   # changes/s; empty: as fast as the client goes
BUILD="${TRIB_BUILD_DIR:-$ROOT/build}"
TRIB="$BUILD/nodes/tributary"
WORK="${BENCH_WORK:-/tmp/trib-bench-my}"
DB=trib_bench_my
ID=bench_my
[[ -x $TRIB ]] || die "$TRIB not found: build first (ops/build.sh)"
command -v /usr/bin/time >/dev/null || die "/usr/bin/time not found (apt-get install time)"
bash "$ROOT/ops/servers.sh" start >/dev/null
MY=(mariadb --no-defaults --socket="$TRIB_MARIADB_SOCKET" -uroot)
RCLI=(redis-cli -p "$TRIB_REDIS_PORT")
rm -rf "$WORK"; mkdir -p "$WORK"

"${MY[@]}" -e "DROP DATABASE IF EXISTS $DB; CREATE DATABASE $DB;
  CREATE TABLE $DB.history (id BIGINT PRIMARY KEY, aid INT, note VARCHAR(40), at DATETIME(6))"
"${RCLI[@]}" --scan --pattern "${DB}_*" | xargs -r "${RCLI[@]}" del >/dev/null
"${RCLI[@]}" --scan --pattern "replicate_io_*_$ID" | xargs -r "${RCLI[@]}" del >/dev/null
printf 'type: MARIADB\nhost: 127.0.0.1\nport: %s\nusername: %s\npassword: %s\nslave-server-ids: [4900]\n' \
  "$TRIB_MARIADB_PORT" "$TRIB_SOURCE_USER" "$TRIB_SOURCE_PASSWORD" > "$WORK/src.yaml"
printf 'type: REDIS_STREAM\nhost: 127.0.0.1\nport: %s\n' "$TRIB_REDIS_PORT" > "$WORK/dst.yaml"
printf 'allow:\n- catalog: %s\n  types: [TABLE]\n' "$DB" > "$WORK/filter.yaml"
printf 'realtime:\n  txn-size-rows: 10000\nmessage:\n  include-schema: false\n' > "$WORK/applier.yaml"
# The load: printed as fast as the client reads it, or paced at RATE
# changes/s (statements of 10 rows, sent in 10 ms slices).
cat > "$WORK/load.py" <<'PY'
import sys, time
n, db, rate = int(sys.argv[1]), sys.argv[2], float(sys.argv[3] or 0)
start = time.monotonic()
for s in range(n):
    rows = ",".join("(%d,%d,'mixed workload entry',NOW(6))" % (s * 10 + i, (s * 10 + i) % 1000)
                    for i in range(10))
    print("INSERT INTO %s.history VALUES %s;" % (db, rows))
    if rate:
        due = start + (s + 1) * 10 / rate
        if due - time.monotonic() > 0.01:
            sys.stdout.flush()
            time.sleep(due - time.monotonic())
PY
expected=$(( STATEMENTS * 10 ))
stream="${DB}_history_cdc_logs"

/usr/bin/time -v "$TRIB" realtime "$WORK/src.yaml" "$WORK/dst.yaml" --filter "$WORK/filter.yaml" \
  --applier "$WORK/applier.yaml" --id "$ID" --overwrite --data-dir "$WORK/data" \
  > "$WORK/out.log" 2> "$WORK/time.log" &
timer=$!
for _ in $(seq 1 300); do
  grep -qs "reads the binlog of" "$WORK/time.log" && break
  kill -0 $timer 2>/dev/null || { cat "$WORK/time.log" >&2; die "tributary exited"; }
  sleep 0.1
done
t0=$(date +%s.%N)
python3 "$WORK/load.py" "$STATEMENTS" "$DB" "$RATE" | "${MY[@]}"
t1=$(date +%s.%N)
for _ in $(seq 1 6000); do
  [[ $("${RCLI[@]}" xlen "$stream") -ge $expected ]] && break
  sleep 0.05
done
t2=$(date +%s.%N)
got=$("${RCLI[@]}" xlen "$stream")
trib=$(pgrep -P $timer)
kill -TERM "$trib"; wait $timer || die "tributary exited with $? (log: $WORK/time.log)"
[[ $got -eq $expected ]] || die "$got entries, expected $expected"
cpu=$(sed -n 's/.*User time (seconds): //p;s/.*System time (seconds): //p' "$WORK/time.log" | paste -sd+ | bc)
rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$WORK/time.log")
read -r p50 p99 max < <(python3 - "$TRIB_REDIS_PORT" "$stream" <<'PY'
import json, subprocess, sys
port, stream = sys.argv[1], sys.argv[2]
lat, start = [], "-"
while True:
    out = subprocess.run(["redis-cli", "-p", port, "--raw", "XRANGE", stream, start, "+", "COUNT", "20000"],
                         capture_output=True, text=True, check=True).stdout.split("\n")
    ids, i = [], 0
    while i + 4 < len(out):
        eid, value = out[i], out[i + 4]
        ids.append(eid)
        i += 5
        if value == "default":
            continue
        v = json.loads(value)
        p = v.get("payload", v) if "schema" in v else v
        lat.append(int(eid.split("-")[0]) - p["after"]["at"] / 1000.0)
    if not ids:
        break
    start = "(" + ids[-1]
lat.sort()
q = lambda f: lat[min(len(lat) - 1, int(f * len(lat)))]
print("%.1f %.1f %.1f" % (q(0.5), q(0.99), lat[-1]))
PY
)
python3 - <<PY
e = $expected
print("| rate | changes | source changes/s | tributary changes/s | catch-up (s) | CPU µs/change | peak RSS (MB) | latency p50 (ms) | p99 (ms) | max (ms) |")
print("|---|---|---|---|---|---|---|---|---|---|")
print("| ${RATE:-unthrottled} | %d | %d | %d | %.2f | %.1f | %.0f | $p50 | $p99 | $max |" % (
    e, e / ($t1 - $t0), e / ($t2 - $t0), $t2 - $t1, $cpu * 1e6 / e, $rss / 1024))
PY
"${MY[@]}" -e "DROP DATABASE $DB"
