#!/usr/bin/env python3
"""Helpers of ops/bench/snapshot.sh, standard library only.

  bench_report.py entry-size HOST PORT STREAM [SAMPLE]
      Average bytes of an entry's `key` plus `value` fields in STREAM, from
      SAMPLE entries taken at the head, the tail and evenly spaced points in
      between (entries differ in size: comments vary, keys grow). Prints
      "<avg key bytes> <avg value bytes> <entries sampled>".
  bench_report.py bench-rps CSV_FILE
      The requests per second of the last test in a redis-benchmark --csv output.
  bench_report.py time-v FILE
      Elapsed seconds and peak RSS in kB from a `/usr/bin/time -v` report.
  bench_report.py table RESULTS_TSV CEILINGS_TSV ENV_TSV
      The Markdown report: machine, versions, ceilings and the result table.
"""
import csv
import json
import subprocess
import sys


def redis_json(host, port, *args):
    # redis-cli --json keeps binary-safe values intact (newlines, quotes).
    out = subprocess.run(["redis-cli", "-h", host, "-p", port, "--json", *args],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def entry_size(host, port, stream, sample=3000):
    sample = int(sample)
    length = int(redis_json(host, port, "XLEN", stream))
    if length == 0:
        sys.exit(f"bench_report: stream {stream} is empty, nothing to measure")
    first = redis_json(host, port, "XRANGE", stream, "-", "+", "COUNT", "1")
    last = redis_json(host, port, "XREVRANGE", stream, "+", "-", "COUNT", "1")
    # Entry IDs are <ms>-<seq>; spaced start points over the ID range give a
    # sample from the whole stream without reading all of it.
    lo = int(first[0][0].split("-")[0])
    hi = int(last[0][0].split("-")[0])
    points = 10
    per_point = max(1, sample // points)
    seen = {}
    for k in range(points):
        start = lo + (hi - lo) * k // max(1, points - 1)
        for entry_id, fields in redis_json(host, port, "XRANGE", stream, f"{start}-0", "+",
                                           "COUNT", str(per_point)):
            seen[entry_id] = fields
    key_bytes = value_bytes = 0
    for fields in seen.values():
        f = dict(zip(fields[0::2], fields[1::2]))
        if "key" not in f or "value" not in f:
            sys.exit(f"bench_report: entry of {stream} lacks a key or value field: {sorted(f)}")
        key_bytes += len(f["key"].encode())
        value_bytes += len(f["value"].encode())
    n = len(seen)
    print(f"{key_bytes / n:.0f} {value_bytes / n:.0f} {n}")


def bench_rps(path):
    with open(path, newline="") as f:
        rows = [r for r in csv.reader(f) if r]
    data = [r for r in rows if r[0] != "test"]
    if not data:
        sys.exit(f"bench_report: no result line in redis-benchmark output {path}")
    print(f"{float(data[-1][1]):.0f}")


def time_v(path):
    elapsed = rss = None
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line.startswith("Elapsed (wall clock) time"):
                # h:mm:ss or m:ss.ss
                clock = line.rsplit(" ", 1)[1]
                secs = 0.0
                for part in clock.split(":"):
                    secs = secs * 60 + float(part)
                elapsed = secs
            elif line.startswith("Maximum resident set size"):
                rss = int(line.rsplit(" ", 1)[1])
    if elapsed is None or rss is None:
        sys.exit(f"bench_report: no elapsed time or peak RSS in {path}")
    print(f"{elapsed:.2f} {rss}")


def read_tsv(path):
    with open(path, newline="") as f:
        return [r for r in csv.reader(f, delimiter="\t") if r]


def fmt_int(x):
    return f"{x:,.0f}"


def table(results_path, ceilings_path, env_path):
    env = dict((r[0], r[1]) for r in read_tsv(env_path))
    ceilings = read_tsv(ceilings_path)
    out = []
    w = out.append
    w(f"# Snapshot benchmark, {env['date']}")
    w("")
    w(f"- Machine: {env['cpu']}, {env['nproc']} cores, {env['mem']} memory; "
      "source, Tributary and Redis on the same machine, over loopback TCP; "
      f"load average before the run {env['load']}.")
    w(f"- Versions: {env['redis']}; {env['psql']}; {env['mariadb']}; tributary at {env['commit']}.")
    w(f"- Table: TPC-H `orders`, {fmt_int(int(env['rows']))} rows "
      "(ops/bench/snapshot.sh generates it in database `bench`).")
    w(f"- Applier: batch-size-rows {env['batch']}; command: `{env['command']}`.")
    w("")
    w("## Ceilings")
    w("")
    w("| ceiling | measured with | rows/s |")
    w("|---|---|---:|")
    for name, how, rps in ceilings:
        w(f"| {name} | {how} | {fmt_int(float(rps))} |")
    w("")
    w("## Tributary")
    w("")
    w("Ceiling = min(source raw read, Redis pipelined XADD of entries of the same "
      "size); target: at least 80 % of it.")
    w("")
    w("| source | messages | rows | seconds | rows/s | MB/s | entry bytes (key+value) | "
      "peak RSS MB | ceiling rows/s | % of ceiling | result |")
    w("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for r in read_tsv(results_path):
        (source, messages, rows, secs, rss_kb, key_b, val_b, src_ceil, redis_ceil, status) = r
        rows_i = int(rows)
        secs_f = float(secs)
        if status != "ok" or secs_f <= 0:
            w(f"| {source} | {messages} | {fmt_int(rows_i)} | {secs} | - | - | - | "
              f"{int(rss_kb) / 1024:.0f} | - | - | FAILED: {status} |")
            continue
        rps = rows_i / secs_f
        entry = float(key_b) + float(val_b)
        mbs = entry * rows_i / secs_f / 1e6
        ceiling = min(float(src_ceil), float(redis_ceil))
        pct = 100.0 * rps / ceiling
        verdict = "meets 80 %" if pct >= 80 else "below 80 %"
        w(f"| {source} | {messages} | {fmt_int(rows_i)} | {secs_f:.1f} | {fmt_int(rps)} | "
          f"{mbs:.1f} | {entry:,.0f} | {int(rss_kb) / 1024:.0f} | {fmt_int(ceiling)} | "
          f"{pct:.0f} % | {verdict} |")
    print("\n".join(out))


def main(argv):
    if len(argv) < 2:
        sys.exit(__doc__)
    cmd, args = argv[1], argv[2:]
    handlers = {"entry-size": entry_size, "bench-rps": bench_rps, "time-v": time_v,
                "table": table}
    if cmd not in handlers:
        sys.exit(__doc__)
    handlers[cmd](*args)


if __name__ == "__main__":
    main(sys.argv)
