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
      Elapsed seconds, peak RSS in kB and CPU seconds (user + system) from a
      `/usr/bin/time -v` report: "<elapsed> <rss kB> <cpu>".
  bench_report.py cpu-us BEFORE AFTER COUNT
      Microseconds of CPU per item: (AFTER - BEFORE) / COUNT * 1e6, where
      BEFORE and AFTER are CPU seconds (Redis's INFO cpu) around a measurement.
  bench_report.py per-k BEFORE AFTER COUNT
      Per 1000 items: (AFTER - BEFORE) / COUNT * 1000, for counters such as
      Redis's page faults read around a measurement.
  bench_report.py tx-resp FILE KEY_BYTES VALUE_BYTES ENTRIES BATCH STREAM CHECKPOINT_KEY
      Writes FILE, the RESP input of `redis-cli --pipe` for the MULTI/EXEC
      ceiling: ENTRIES `XADD STREAM * key <k> value <v>` (a key of KEY_BYTES
      and a value of VALUE_BYTES bytes) in transactions of BATCH entries, each
      `MULTI; XADD...; HSET CHECKPOINT_KEY STREAM <entries so far>; EXEC`.
      Refuses when the file would leave less than 512 MB free on its disk.
  bench_report.py table RESULTS_TSV CEILINGS_TSV ENV_TSV
      The Markdown report: conditions and method, then the summary per
      (source, messages) over the rounds, every round, every ceiling.
      RESULTS_TSV: round, load average before the run, source, messages, rows,
      seconds, peak RSS kB, key bytes, value bytes, source ceiling rows/s,
      Redis ceiling rows/s, Redis MULTI/EXEC ceiling rows/s, Tributary CPU
      seconds (user + system), Redis CPU seconds spent during the run (INFO
      cpu after minus before), Redis minor page faults during the run, seconds
      of the memory warm-up right before it (empty without one), status ("ok"
      or what failed).
      CEILINGS_TSV: round, ceiling, how it was measured, rows/s, Redis CPU
      microseconds per entry, Redis page faults per 1000 entries and seconds of
      the memory warm-up before it (all three empty for the source reads).
"""
import csv
import json
import os
import shutil
import statistics
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
    elapsed = rss = user = system = None
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
            elif line.startswith("User time (seconds)"):
                user = float(line.rsplit(" ", 1)[1])
            elif line.startswith("System time (seconds)"):
                system = float(line.rsplit(" ", 1)[1])
    if elapsed is None or rss is None or user is None or system is None:
        sys.exit(f"bench_report: no elapsed time, peak RSS or user and system time in {path}")
    print(f"{elapsed:.2f} {rss} {user + system:.2f}")


def cpu_us(before, after, count):
    count = int(count)
    if count < 1:
        sys.exit(f"bench_report: cpu-us needs a positive count, got {count}")
    print(f"{(float(after) - float(before)) / count * 1e6:.2f}")


def per_k(before, after, count):
    count = int(count)
    if count < 1:
        sys.exit(f"bench_report: per-k needs a positive count, got {count}")
    print(f"{(float(after) - float(before)) / count * 1000:.0f}")


def resp(*args):
    parts = [b"*%d\r\n" % len(args)]
    for arg in args:
        parts.append(b"$%d\r\n%s\r\n" % (len(arg), arg))
    return b"".join(parts)


def tx_resp(path, key_bytes, value_bytes, entries, batch, stream, checkpoint):
    key_bytes, value_bytes = int(key_bytes), int(value_bytes)
    entries, batch = int(entries), int(batch)
    stream, checkpoint = stream.encode(), checkpoint.encode()
    if entries < 1 or batch < 1:
        sys.exit("bench_report: tx-resp needs at least one entry and a batch of at least one")
    # Every XADD is the same command: redis-benchmark's entries are alike too.
    xadd = resp(b"XADD", stream, b"*", b"key", b"k" * key_bytes, b"value", b"v" * value_bytes)
    multi, exec_ = resp(b"MULTI"), resp(b"EXEC")
    batches = -(-entries // batch)
    size = entries * len(xadd) + batches * (
        len(multi) + len(exec_) + len(resp(b"HSET", checkpoint, stream, str(entries).encode())))
    free = shutil.disk_usage(os.path.dirname(os.path.abspath(path))).free
    if size + (512 << 20) > free:
        sys.exit(f"bench_report: {path} would take {size >> 20} MB, only {free >> 20} MB free")
    full_batch = xadd * batch if entries >= batch else b""
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        done = 0
        while done < entries:
            n = min(batch, entries - done)
            done += n
            f.write(multi)
            f.write(full_batch if n == batch else xadd * n)
            f.write(resp(b"HSET", checkpoint, stream, str(done).encode()))
            f.write(exec_)
    os.replace(tmp, path)


def read_tsv(path):
    with open(path, newline="") as f:
        return [r for r in csv.reader(f, delimiter="\t") if r]


def fmt_int(x):
    return f"{x:,.0f}"


class Run:
    """One Tributary run and the ceiling measured next to it."""

    def __init__(self, row):
        (self.round, self.load, self.source, self.messages, rows, secs, rss_kb,
         key_b, val_b, src_ceil, redis_ceil, tx_ceil, trib_cpu, redis_cpu,
         redis_faults, warm, self.status) = row
        self.warm = f"{float(warm):.2f}" if warm else "-"
        self.rows = int(rows)
        self.secs = float(secs)
        self.rss_mb = int(rss_kb) / 1024
        self.ok = self.status == "ok" and self.secs > 0
        if self.ok:
            self.rps = self.rows / self.secs
            self.entry = float(key_b) + float(val_b)
            self.mbs = self.entry * self.rows / self.secs / 1e6
            self.src_ceil = float(src_ceil)
            self.redis_ceil = float(redis_ceil)
            self.ceiling = min(self.src_ceil, self.redis_ceil)
            self.pct = 100.0 * self.rps / self.ceiling
            # Informative only: the ceiling of a client that writes, as
            # Tributary must, in MULTI/EXEC transactions with a checkpoint.
            self.tx_ceiling = min(self.src_ceil, float(tx_ceil))
            self.tx_pct = 100.0 * self.rps / self.tx_ceiling
            # CPU per row, in microseconds: Tributary's own (user + system)
            # and what Redis spent while Tributary wrote to it.
            self.trib_us = float(trib_cpu) / self.rows * 1e6
            self.redis_us = float(redis_cpu) / self.rows * 1e6
            self.faults_k = float(redis_faults) / self.rows * 1000


def verdict(pct):
    return "meets 80 %" if pct >= 80 else "below 80 %"


def table(results_path, ceilings_path, env_path):
    env = dict((r[0], r[1]) for r in read_tsv(env_path))
    ceilings = read_tsv(ceilings_path)
    runs = [Run(r) for r in read_tsv(results_path)]
    repeat = int(env["repeat"])
    out = []
    w = out.append
    w(f"# Snapshot benchmark, {env['date']}")
    w("")
    w(f"- Machine: {env['cpu']}, {env['nproc']} cores, {env['mem']} memory; "
      "source, Tributary and Redis on the same machine, over loopback TCP; "
      f"load average before the run {env['load']}.")
    binary = ""
    if env.get("skip") != "1":
        binary = f" (binary built {env['binary']})"
    w(f"- Versions: {env['redis']}; {env['psql']}; {env['mariadb']}; "
      f"tributary at {env['commit']}{binary}.")
    if env.get("settings"):
        w(f"- Server settings: {env['settings']} (ops/servers.sh).")
    w(f"- Table: TPC-H `orders`, {fmt_int(int(env['rows']))} rows "
      "(ops/bench/snapshot.sh generates it in database `bench`).")
    w(f"- Applier: batch-size-rows {env['batch']}; command: `{env['command']}`.")
    if env.get("skip") != "1" and env["binary_after"] != env["binary"]:
        w(f"- Warning: the binary changed during the benchmark (built {env['binary']}, "
          f"then {env['binary_after']}): the rounds may have run different builds.")
    w("")
    w("Ceiling = min(source raw read, Redis pipelined XADD of entries of the same "
      "size); target: Tributary at least 80 % of it.")
    rounds = f"{repeat} round{'s' if repeat != 1 else ''}"
    if env.get("skip") == "1":
        w(f"Method: ceilings only (SKIP_TRIBUTARY=1), measured in each of {rounds}.")
    else:
        w("Method: this shared machine's speed drifts within minutes, so each Tributary run "
          "is compared with the Redis XADD ceiling measured right after it (and the source "
          "raw read measured just before that source's runs in the same round). The "
          f"summary gives the median and the best of {rounds}; its result judges the median.")
        w("The extra column \"% of MULTI/EXEC ceiling\" is for information only and changes "
          "neither the target nor the result: it compares the same run with the lower of the "
          "source raw read and the rate at which Redis takes the same entries written as "
          "Tributary's contract requires, in transactions as large as Tributary's writes "
          f"(about {int(env['write_bytes']) // 1024} KB: MULTI, the XADDs, HSET of "
          "a checkpoint, EXEC; the ceilings table gives the entries per transaction).")
    w("The CPU columns are microseconds of CPU per row: Tributary's user + system time from "
      "`/usr/bin/time -v`, and Redis's `used_cpu_user + used_cpu_sys` from INFO cpu read right "
      "before and right after the run (for a ceiling, around its measurement); on this shared "
      "machine they are steadier than rates.")
    w("Redis's memory: before every measured write (a Tributary run, each redis-benchmark run, "
      "the MULTI/EXEC pipe) the script deletes its keys and sends MEMORY PURGE, so each one "
      "starts from the same memory state and Redis faults in the pages its entries need, as "
      "for a first snapshot into Redis. The \"Redis faults\" columns (minor page faults of the "
      "Redis process per 1000 entries) show that runs and ceilings paid alike. Without the purge, "
      "a write that starts right after a large DEL reuses pages jemalloc has not yet returned "
      "and costs Redis markedly less CPU per entry than one that starts a few seconds later.")
    warm = int(env.get("warm_bytes", "0"))
    if warm > 0:
        w(f"The machine's memory: right before every measured write the script also touches and "
          f"frees {warm / 2**30:.1f} GiB (fallocate in /dev/shm, then rm), so that the write "
          "finds recently used free pages. On this virtual machine a free page the host has "
          "taken back costs many times an ordinary page fault when it is first written again, "
          "and which pages a write gets otherwise depends on what ran before it. The \"warm-up "
          "s\" columns say how long that took: the kernel clears every page it hands out, so a "
          "slow warm-up means pages were costly just then, for the write that followed too.")
    w("")
    w("## Summary")
    w("")
    if env.get("skip") == "1":
        w("No Tributary runs (SKIP_TRIBUTARY=1): ceilings only.")
    else:
        w("| source | messages | rows | rounds | median rows/s | max peak RSS MB | "
          "ceiling rows/s (min-max) | median % of ceiling | best % of ceiling | "
          "median % of MULTI/EXEC ceiling | median Tributary CPU µs/row | "
          "median Redis CPU µs/entry | result |")
        w("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
        groups = {}
        for r in runs:
            groups.setdefault((r.source, r.messages), []).append(r)
        for (source, messages), group in groups.items():
            good = [r for r in group if r.ok]
            failed = len(group) - len(good)
            rss = max(r.rss_mb for r in group)
            rows = fmt_int(group[0].rows)
            if not good:
                w(f"| {source} | {messages} | {rows} | 0 of {len(group)} | - | {rss:.0f} | "
                  f"- | - | - | - | - | - | FAILED: every round |")
                continue
            med_pct = statistics.median(r.pct for r in good)
            best_pct = max(r.pct for r in good)
            med_tx_pct = statistics.median(r.tx_pct for r in good)
            med_rps = statistics.median(r.rps for r in good)
            med_trib_us = statistics.median(r.trib_us for r in good)
            med_redis_us = statistics.median(r.redis_us for r in good)
            lo = min(r.ceiling for r in good)
            hi = max(r.ceiling for r in good)
            result = (f"FAILED: {failed} of {len(group)} rounds" if failed
                      else verdict(med_pct))
            w(f"| {source} | {messages} | {rows} | {len(good)} of {len(group)} | "
              f"{fmt_int(med_rps)} | {rss:.0f} | {fmt_int(lo)}-{fmt_int(hi)} | "
              f"{med_pct:.0f} % | {best_pct:.0f} % | {med_tx_pct:.0f} % | "
              f"{med_trib_us:.2f} | {med_redis_us:.2f} | {result} |")
        w("")
        w("## Rounds")
        w("")
        w("Ceiling = the lower of the source read and the Redis XADD rate of the same round; "
          "load = 1-minute load average just before the run.")
        w("")
        w("| round | load | source | messages | seconds | rows/s | MB/s | "
          "entry bytes (key+value) | peak RSS MB | source read rows/s | "
          "Redis XADD rows/s | % of ceiling | % of MULTI/EXEC ceiling | "
          "Tributary CPU µs/row | Redis CPU µs/entry | Redis faults /1000 entries | warm-up s | "
          "result |")
        w("|---:|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
        for r in runs:
            if not r.ok:
                w(f"| {r.round} | {r.load} | {r.source} | {r.messages} | {r.secs:.1f} | - | - | "
                  f"- | {r.rss_mb:.0f} | - | - | - | - | - | - | - | {r.warm} | FAILED: {r.status} |")
                continue
            w(f"| {r.round} | {r.load} | {r.source} | {r.messages} | {r.secs:.1f} | "
              f"{fmt_int(r.rps)} | {r.mbs:.1f} | {r.entry:,.0f} | {r.rss_mb:.0f} | "
              f"{fmt_int(r.src_ceil)} | {fmt_int(r.redis_ceil)} | {r.pct:.0f} % | "
              f"{r.tx_pct:.0f} % | {r.trib_us:.2f} | {r.redis_us:.2f} | {r.faults_k:.0f} | "
              f"{r.warm} | {verdict(r.pct)} |")
    w("")
    w("## Ceilings")
    w("")
    compare = "" if env.get("skip") == "1" else (
        " Compare it with the Redis CPU µs/entry of the Tributary runs above.")
    w("Redis CPU µs/entry: Redis's CPU over the measurement per entry written; for "
      f"redis-benchmark, over its -c 4 run.{compare}")
    w("")
    w("| round | ceiling | measured with | rows/s | Redis CPU µs/entry | "
      "Redis faults /1000 entries | warm-up s |")
    w("|---:|---|---|---:|---:|---:|---:|")
    for rnd, name, how, rps, redis_us, faults, warm in ceilings:
        redis_us = f"{float(redis_us):.2f}" if redis_us else "-"
        faults = faults or "-"
        warm = f"{float(warm):.2f}" if warm else "-"
        w(f"| {rnd} | {name} | {how} | {fmt_int(float(rps))} | {redis_us} | {faults} | {warm} |")
    print("\n".join(out))


def main(argv):
    if len(argv) < 2:
        sys.exit(__doc__)
    cmd, args = argv[1], argv[2:]
    handlers = {"entry-size": entry_size, "bench-rps": bench_rps, "time-v": time_v,
                "cpu-us": cpu_us, "per-k": per_k, "tx-resp": tx_resp, "table": table}
    if cmd not in handlers:
        sys.exit(__doc__)
    handlers[cmd](*args)


if __name__ == "__main__":
    main(sys.argv)
