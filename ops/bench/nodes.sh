#!/usr/bin/env bash
# Multi-node benchmark (issue 13, point 8): a snapshot of TABLES tables of ROWS
# rows each from the local PostgreSQL into the local Redis,
#   single    one `tributary snapshot` process;
#   loopback  `tributary coordinator` and WORKERS `tributary worker` processes
#             on loopback (CAF's middleman with mutual TLS between them);
#   netns     the same with every worker in a network namespace of its own,
#             behind a veth link (separate addresses, as on separate machines);
#             the workers reach PostgreSQL and Redis through socat relays
#             (127.0.0.1:PORT in the namespace -> Unix socket -> the server),
#             whose CPU is reported apart.
# Every process runs under /usr/bin/time: wall time, CPU (user + system) and
# peak RSS per process. On one 2-core machine the workers share the cores
# with each other, the coordinator, PostgreSQL and Redis, so more nodes do
# not make it faster; what the run shows is the cost of the middleman: the
# CPU per row of all Tributary processes together, against the single
# process's, and how the rows/s compare.
#
#   ops/bench/nodes.sh                         4 tables x 250,000 rows, all three runs
#   TABLES=2 ROWS=20000 ops/bench/nodes.sh     a quick check of the script
#   RUNS="single netns" ops/bench/nodes.sh
#
# Environment: TABLES (default 4), ROWS (default 250000), WORKERS (default 3),
# RUNS (default "single loopback netns"), TRIB_BUILD_DIR (nodes/tributary),
# BENCH_WORK (default /tmp/trib-bench-nodes). Needs root for netns.
# Writes ops/bench/results/nodes-<date>.md and prints it. Exit 1 when a run
# failed or a stream does not hold ROWS entries.
# Touches only its own data: database bench_nodes, Redis keys bench_nodes_*
# and replicate_io_*bench_nodes*, namespaces tribb-*.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# shellcheck source=ops/env.sh
source "$ROOT/ops/env.sh"
# shellcheck source=ops/bench/lib.sh
source "$ROOT/ops/bench/lib.sh"

die() { echo "nodes.sh: error: $*" >&2; exit 1; }
log() { echo "nodes.sh: $*" >&2; }

TABLES="${TABLES:-4}"
ROWS="${ROWS:-250000}"
WORKERS="${WORKERS:-3}"
RUNS="${RUNS:-single loopback netns}"
[[ $TABLES =~ ^[1-9][0-9]*$ ]] || die "TABLES must be a positive integer"
[[ $ROWS =~ ^[1-9][0-9]*$ ]] || die "ROWS must be a positive integer"
[[ $WORKERS =~ ^[1-9]$ ]] || die "WORKERS must be 1 to 9"
for r in $RUNS; do [[ $r == single || $r == loopback || $r == netns ]] || die "unknown run '$r'"; done
TRIB="${TRIB_BUILD_DIR:-$ROOT/build}/nodes/tributary"
[[ -x $TRIB ]] || die "no binary at $TRIB: run ops/build.sh"
[[ -x /usr/bin/time ]] || die "/usr/bin/time not found (Debian package 'time')"
for tool in redis-cli python3 socat ip; do command -v "$tool" >/dev/null || die "$tool not found: run ops/install.sh"; done
if [[ " $RUNS " == *" netns "* ]] && (( EUID != 0 )); then die "the netns run needs root"; fi

WORK="${BENCH_WORK:-/tmp/trib-bench-nodes}"
OUT="$ROOT/ops/bench/results/nodes-$(date +%Y-%m-%d).md"
rm -rf "$WORK"; mkdir -p "$WORK" "$(dirname "$OUT")"
bench_clients
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
bash "$ROOT/ops/servers.sh" start >&2 || die "ops/servers.sh start failed"

# ------------------------------------------------------------------ cleanup
NS_PREFIX="tribb-$$-"
RELAYS=()
cleanup() {
  local p
  for p in "${RELAYS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in $(ip netns list 2>/dev/null | awk '{print $1}' | grep "^$NS_PREFIX" || true); do
    ip netns del "$p" 2>/dev/null || true
  done
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# ------------------------------------------------------------------ data
log "makes $TABLES tables of $ROWS rows in database bench_nodes"
"${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS bench_nodes" -c "CREATE DATABASE bench_nodes"
for t in $(seq 1 "$TABLES"); do
  "${PSQL[@]}" -d bench_nodes -c "CREATE TABLE t$t (id bigint PRIMARY KEY, grp int NOT NULL,
      name text NOT NULL, amount numeric(12,2), at timestamptz NOT NULL)" \
    -c "INSERT INTO t$t SELECT i, i % 1000, 'customer ' || md5(i::text), (i % 100000) / 100.0,
      timestamptz '2026-01-01' + i * interval '1 second' FROM generate_series(1, $ROWS) i" \
    -c "ANALYZE t$t"
done
bench_pg_conf "$WORK" bench_nodes
bash "$ROOT/ops/node-certs.sh" "$WORK/certs" coordinator $(seq -f 'w%g' 1 "$WORKERS") > /dev/null

redis_clean() {
  local keys
  keys=$("${RCLI[@]}" --scan --pattern 'bench_nodes_*'; "${RCLI[@]}" --scan --pattern 'replicate_io_*bench_nodes*')
  # shellcheck disable=SC2086  # one key per word
  [[ -z $keys ]] || "${RCLI[@]}" DEL $keys > /dev/null
  rm -rf "$WORK/data"
}

check_streams() {
  local t n
  for t in $(seq 1 "$TABLES"); do
    n=$("${RCLI[@]}" XLEN "bench_nodes_public_t$t")
    [[ $n == "$ROWS" ]] || { log "stream bench_nodes_public_t$t holds $n entries, not $ROWS"; return 1; }
  done
}

# timed NAME CMD...: runs CMD under /usr/bin/time into $WORK/NAME.time
# ("wall user sys maxrss_kb") and $WORK/NAME.log.
timed() {
  local name=$1; shift
  /usr/bin/time -o "$WORK/$name.time" -f '%e %U %S %M' "$@" > "$WORK/$name.log" 2>&1
}

RESULTS="$WORK/results.tsv"
: > "$RESULTS"; : > "$WORK/phases.tsv"
# record RUN PROCESS: one line per process of a run.
record() { echo -e "$1\t$2\t$(cat "$WORK/$1-$2.time")" >> "$RESULTS"; }
# phase RUN LOG: the snapshot phase from the log's timestamps, from the last
# worker's join (or the run's start) to "finishes snapshot of replication":
# without the process start, the join wait and the end of the run.
phase() {
  python3 - "$WORK/$2.log" "$1" >> "$WORK/phases.tsv" <<'PY'
import sys, datetime
start = end = None
for line in open(sys.argv[1]):
    ts = line.split(" ", 1)[0]
    try:
        t = datetime.datetime.fromisoformat(ts.replace("Z", "+00:00"))
    except ValueError:
        continue
    if "starts snapshot replication" in line or " joined from " in line:
        start = t
    elif "finishes snapshot of replication" in line:
        end = t
if start and end:
    print(f"{sys.argv[2]}\t{(end - start).total_seconds():.3f}")
PY
}

# ------------------------------------------------------------------ runs
run_single() {
  redis_clean
  log "single: one process"
  timed single-tributary "$TRIB" snapshot "$WORK/src.yaml" "$WORK/dst.yaml" --id bench_nodes \
    --data-dir "$WORK/data" || { cat "$WORK/single-tributary.log" >&2; return 1; }
  record single tributary
  phase single single-tributary
  check_streams
}

# run_cluster RUN NS...: coordinator here, worker i in namespace NS[i] ("" = here).
run_cluster() {
  local run=$1; shift
  local nss=("$@") at pids=() i rc=0
  redis_clean
  at="${CLUSTER_ADDR}:$((20000 + RANDOM % 20000))"
  log "$run: a coordinator at $at and $WORKERS workers"
  timed "$run-coordinator" "$TRIB" coordinator snapshot "$WORK/src.yaml" "$WORK/dst.yaml" \
    --id bench_nodes --data-dir "$WORK/data" --listen "$at" \
    --node-tls "$WORK/certs/coordinator" --workers "$WORKERS" &
  local coordinator=$!
  for i in $(seq 1 "$WORKERS"); do
    if [[ -n ${nss[$((i - 1))]} ]]; then
      timed "$run-w$i" ip netns exec "${nss[$((i - 1))]}" "$TRIB" worker --join "$at" \
        --node-tls "$WORK/certs/w$i" &
    else
      timed "$run-w$i" "$TRIB" worker --join "$at" --node-tls "$WORK/certs/w$i" &
    fi
    pids+=($!)
  done
  wait "$coordinator" || rc=$?
  for i in "${pids[@]}"; do wait "$i" || true; done
  (( rc == 0 )) || { cat "$WORK/$run-coordinator.log" >&2; return 1; }
  record "$run" coordinator
  phase "$run" "$run-coordinator"
  for i in $(seq 1 "$WORKERS"); do record "$run" "w$i"; done
  check_streams
}

setup_netns() {
  local i net="10.$((200 + ($$ >> 8) % 50)).$(($$ % 256))." dir="$WORK/relay"
  mkdir -p "$dir"
  NETNS=()
  for port in "$TRIB_PG_PORT" "$TRIB_REDIS_PORT"; do
    socat "UNIX-LISTEN:$dir/$port.sock,fork,unlink-early" "TCP:127.0.0.1:$port,nodelay" &
    RELAYS+=($!)
  done
  for i in $(seq 1 "$WORKERS"); do
    local ns="$NS_PREFIX$i" a="tb$$x$i" b="tn$$x$i"
    ip netns add "$ns"
    ip link add "$a" type veth peer name "$b"
    ip link set "$b" netns "$ns"
    ip addr add "${net}$((4 * i + 1))/30" dev "$a"
    ip link set "$a" up
    ip -n "$ns" addr add "${net}$((4 * i + 2))/30" dev "$b"
    ip -n "$ns" link set "$b" up
    ip -n "$ns" link set lo up
    ip -n "$ns" route add default via "${net}$((4 * i + 1))"
    for port in "$TRIB_PG_PORT" "$TRIB_REDIS_PORT"; do
      ip netns exec "$ns" socat "TCP-LISTEN:$port,bind=127.0.0.1,reuseaddr,fork,nodelay" \
        "UNIX-CONNECT:$dir/$port.sock" &
      RELAYS+=($!)
    done
    NETNS+=("$ns")
  done
  CLUSTER_ADDR="${net}5"  # the root end of the first link
  # Until every relay takes connections.
  local deadline=$((SECONDS + 10)) ns
  for ns in "${NETNS[@]}"; do
    for port in "$TRIB_PG_PORT" "$TRIB_REDIS_PORT"; do
      until ip netns exec "$ns" bash -c "exec 3<>/dev/tcp/127.0.0.1/$port" 2>/dev/null; do
        (( SECONDS < deadline )) || die "the relay of port $port in $ns is not up"
      done
    done
  done
}

cpu_of_relays() {
  local total=0 p t
  for p in "${RELAYS[@]}"; do
    # utime + stime of the relay and its forked children (cutime, cstime)
    t=$(awk '{print $14 + $15 + $16 + $17}' "/proc/$p/stat" 2>/dev/null || echo 0)
    total=$((total + t))
  done
  python3 -c "import os,sys; print(f'{int(sys.argv[1]) / os.sysconf(\"SC_CLK_TCK\"):.2f}')" "$total"
}

fail=0
for run in $RUNS; do
  case $run in
    single) run_single || fail=1 ;;
    loopback)
      CLUSTER_ADDR=127.0.0.1
      empty=(); for _ in $(seq 1 "$WORKERS"); do empty+=(""); done
      run_cluster loopback "${empty[@]}" || fail=1 ;;
    netns)
      setup_netns
      run_cluster netns "${NETNS[@]}" || fail=1
      RELAY_CPU=$(cpu_of_relays) ;;
  esac
done
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
redis_clean

python3 - "$RESULTS" "$WORK/phases.tsv" "$OUT" "$TABLES" "$ROWS" "$WORKERS" "$LOAD_BEFORE" "$LOAD_AFTER" \
  "${RELAY_CPU:-}" "$(git -C "$ROOT" rev-parse --short HEAD)" <<'PY'
import sys, collections
res, phases_file, out, tables, rows, workers, load0, load1, relay_cpu, commit = sys.argv[1:]
phases = dict(l.split() for l in open(phases_file) if l.strip())
total = int(tables) * int(rows)
runs = collections.OrderedDict()
for line in open(res):
    run, proc, wall, user, sys_, rss = line.split()
    runs.setdefault(run, []).append((proc, float(wall), float(user) + float(sys_), int(rss) // 1024))
lines = [f"# Multi-node snapshot benchmark ({commit})", "",
         f"{tables} tables x {rows} rows ({total} rows) from the local PostgreSQL into the local Redis; "
         f"coordinator and {workers} workers; 2-core machine shared by all processes and servers; "
         f"load average before {load0}, after {load1}.", "",
         "wall s: the slowest process, start to exit; snapshot s: from the last worker's join "
         "to the end of the snapshot in the coordinator's log (the phase the rows move in).", "",
         "| run | wall s | snapshot s | rows/s (snapshot) | Tributary CPU s | CPU us/row | peak RSS MB per process |",
         "|---|---|---|---|---|---|---|"]
single_cpu = None
for run, procs in runs.items():
    wall = max(p[1] for p in procs)
    cpu = sum(p[2] for p in procs)
    if run == "single":
        single_cpu = cpu
    rss = ", ".join(f"{p[0]} {p[3]}" for p in procs)
    snap = float(phases.get(run, wall))
    lines.append(f"| {run} | {wall:.1f} | {snap:.1f} | {total / snap:,.0f} | {cpu:.1f} | {cpu * 1e6 / total:.1f} | {rss} |")
lines.append("")
if single_cpu is not None:
    for run, procs in runs.items():
        if run == "single":
            continue
        cpu = sum(p[2] for p in procs)
        lines.append(f"- {run}: the middleman costs {(cpu - single_cpu) * 1e6 / total:.1f} us of CPU per row "
                     f"(all Tributary processes together, minus the single process).")
if relay_cpu:
    lines.append(f"- netns: the socat relays to PostgreSQL and Redis used {relay_cpu} s of CPU (not in the figures above).")
lines.append("")
lines.append("Per process (wall s, CPU s, peak RSS MB):")
lines.append("")
for run, procs in runs.items():
    for p in procs:
        lines.append(f"- {run} {p[0]}: {p[1]:.1f} s, {p[2]:.1f} s CPU, {p[3]} MB")
text = "\n".join(lines) + "\n"
open(out, "w").write(text)
print(text)
PY
log "wrote $OUT"
exit "$fail"
