#!/usr/bin/env python3
"""Prints one table of ratios (ours / baseline) from Google Benchmark JSON.

Usage: bench/report.py [--markdown OUT.md] RESULT.json [RESULT.json ...]

Every input is Google Benchmark's --benchmark_format=json output (the Python
baselines write the same shape). For each pair below, the repetitions of
"ours" and of the baseline are paired by repetition index (they ran
interleaved, in the same process and folder where possible) and the table
shows the median of the per-repetition ratios of real time, with their min
and max, the median ratio of CPU time where both sides report it, the
medians of the absolute times, and the goal. A ratio below 1 means ours is
faster. Rows whose benchmarks did not run say so; nothing is made up.
"""

import argparse
import json
import statistics
import sys

# (section, label, ours, baseline, goal): names without the /real_time or
# /manual_time suffix Google Benchmark adds; goal is ("<=", x) on the time
# ratio, or None for a figure shown without a goal.
PAIRS = [
    ("Filesystem, 1 KiB JSON (FileSystemJsonBackend)", [
        ("dump vs temp+write+rename", "fs/json_dump/ours", "fs/json_dump/raw", ("<=", 1.3)),
        ("load vs open+read+close", "fs/json_load/ours", "fs/json_load/raw", None),
        ("load vs read + simdjson DOM", "fs/json_load/ours", "fs/json_load/raw+simdjson", ("<=", 2.0)),
        ("load vs original (Python)", "fs/json_load/ours", "original/fs_json_load", ("<=", 0.2)),
        ("dump vs original (Python)", "fs/json_dump/ours", "original/fs_json_dump", None),
        ("remove vs original (Python)", "fs/remove/ours", "original/fs_remove", None),
    ]),
    ("Filesystem, bytes (FileBackend)", [
        ("dump 100 B vs raw", "fs/bytes_dump/ours/100", "fs/bytes_dump/raw/100", ("<=", 1.3)),
        ("dump 1 KiB vs raw", "fs/bytes_dump/ours/1024", "fs/bytes_dump/raw/1024", ("<=", 1.3)),
        ("dump 64 KiB vs raw", "fs/bytes_dump/ours/65536", "fs/bytes_dump/raw/65536", ("<=", 1.3)),
        ("dump 1 MiB vs raw", "fs/bytes_dump/ours/1048576", "fs/bytes_dump/raw/1048576", ("<=", 1.3)),
        ("load 100 B vs raw", "fs/bytes_load/ours/100", "fs/bytes_load/raw/100", None),
        ("load 1 KiB vs raw", "fs/bytes_load/ours/1024", "fs/bytes_load/raw/1024", None),
        ("load 64 KiB vs raw", "fs/bytes_load/ours/65536", "fs/bytes_load/raw/65536", None),
        ("load 1 MiB vs raw", "fs/bytes_load/ours/1048576", "fs/bytes_load/raw/1048576", None),
        ("remove vs unlink (per 100)", "fs/remove/ours", "fs/remove/raw", None),
        ("keys() 10k flat vs walk", "fs/keys10k/ours/nested:0", "fs/keys10k/walk/nested:0", ("<=", 1.5)),
        ("keys() 10k nested vs walk", "fs/keys10k/ours/nested:1", "fs/keys10k/walk/nested:1", ("<=", 1.5)),
        ("durable dump vs raw+fsyncs", "fs/durable_dump/ours", "fs/durable_dump/raw", ("<=", 1.3)),
        ("load_range 4 KiB of 1 GiB vs openat+pread+close", "fs/range4k_of_1g/ours", "fs/range4k_of_1g/raw", ("<=", 1.2)),
    ]),
    ("JSON parsers, 1 KiB document (vs simdjson DOM)", [
        ("ours (simdjson -> nlohmann)", "json/parse/ours/1024", "json/parse/simdjson/1024", None),
        ("rapidjson", "json/parse/rapidjson/1024", "json/parse/simdjson/1024", None),
        ("boost::json", "json/parse/boost/1024", "json/parse/simdjson/1024", None),
        ("nlohmann", "json/parse/nlohmann/1024", "json/parse/simdjson/1024", None),
        ("our writer vs nlohmann dump(4)", "json/write/ours/1024", "json/write/nlohmann/1024", None),
    ]),
    ("Caches, 1 KiB values, in a folder (vs python3-diskcache)", [
        ("JsonCache get (live entry)", "cache/json_get/ours", "diskcache/json_get", ("<=", 0.5)),
        ("JsonCache get, decoded copies off", "cache/json_get/no_copies", "diskcache/json_get", None),
        ("JsonCache set", "cache/json_set/ours", "diskcache/json_set", ("<=", 1.0)),
        ("TextCache get (live entry)", "cache/text_get/ours", "diskcache/text_get", None),
        ("TextCache set", "cache/text_set/ours", "diskcache/text_set", None),
        ("JsonCache get vs FS JSON load", "cache/json_get/ours", "fs/json_load/ours", None),
        ("JsonCache get vs open+read+close", "cache/json_get/ours", "cache/json_get/raw", None),
        ("JsonCache set vs temp+write+rename", "cache/json_set/ours", "cache/json_set/raw", None),
        ("diskcache get vs open+read+close", "diskcache/json_get", "cache/json_get/raw", None),
        ("diskcache set vs temp+write+rename", "diskcache/json_set", "cache/json_set/raw", None),
    ]),
    ("SQLite, 1 KiB values (SqliteBackend; raw = bare prepared statements, WAL, synchronous=NORMAL)", [
        ("dump vs bare UPSERT, WITHOUT ROWID (k, v)", "sqlite/dump/ours", "sqlite/dump/raw", ("<=", 1.2)),
        ("dump vs bare UPSERT on our schema", "sqlite/dump/ours", "sqlite/dump/raw_rowid", None),
        ("load vs bare SELECT, WITHOUT ROWID (k, v)", "sqlite/load/ours/threads:1", "sqlite/load/raw", ("<=", 1.2)),
        ("load vs bare SELECT on our schema", "sqlite/load/ours/threads:1", "sqlite/load/raw_rowid", None),
        ("load, 2 threads vs 1 (rate >= 1.6x)", "sqlite/load/ours/threads:2", "sqlite/load/ours/threads:1", ("<=", 0.625)),
        ("dump_many 100k, per key vs bare loop in one transaction", "sqlite/dump_many/ours/iterations:1", "sqlite/dump_many/raw/iterations:1", ("<=", 1.3)),
        ("dump_many 100k, per key vs single dump (>= 10x faster)", "sqlite/dump_many/ours/iterations:1", "sqlite/dump/ours", ("<=", 0.1)),
        ("dump vs diskcache set (1 KiB text)", "sqlite/dump/ours", "diskcache/text_set", ("<=", 0.65)),
        ("load vs diskcache get (1 KiB text)", "sqlite/load/ours/threads:1", "diskcache/text_get", ("<=", 0.6)),
        ("JsonCache on SQLite: set vs diskcache set", "sqlite/json_set/ours", "diskcache/json_set", ("<=", 0.7)),
        ("JsonCache on SQLite: get (live) vs diskcache get", "sqlite/json_get/ours", "diskcache/json_get", ("<=", 0.35)),
        ("TextCache on SQLite: set vs diskcache set", "sqlite/text_set/ours", "diskcache/text_set", None),
        ("TextCache on SQLite: get (live) vs diskcache get", "sqlite/text_get/ours", "diskcache/text_get", None),
        ("JsonCache on SQLite: get vs bare SELECT on our schema", "sqlite/json_get/ours", "sqlite/load/raw_rowid", None),
        ("JsonCache on SQLite: get vs its floor, a bare PRAGMA data_version", "sqlite/json_get/ours", "sqlite/data_version/raw", None),
    ]),
    # Raw = hiredis's synchronous context on its own TCP connection to the
    # same server; time ratios (a rate of >= 90% is a time ratio <= 1.11).
    ("Redis, 1 KiB values, redis-server on 127.0.0.1 (raw = hiredis loops)", [
        ("GET sequential vs raw redisCommand (rate >= 90%)", "redis/get/ours", "redis/get/raw", ("<=", 1.11)),
        ("SET sequential vs raw redisCommand (rate >= 90%)", "redis/set/ours", "redis/set/raw", ("<=", 1.11)),
        ("GET over TLS (ours) vs raw redisCommand on plain TCP", "redis/get/tls", "redis/get/raw", None),
        ("load_many 1,000 vs raw pipelined GETs (>= 90%)", "redis/load_many/ours", "redis/load_many/raw", ("<=", 1.11)),
        ("dump_many 1,000 vs raw pipelined SETs (>= 90%)", "redis/dump_many/ours", "redis/dump_many/raw", ("<=", 1.11)),
        ("Cluster: load_many 1,000 over 3 masters vs one node (>= 90%)", "redis/cluster/load_many/ours", "redis/cluster/load_many/one_node", ("<=", 1.11)),
        ("Cluster: dump_many 1,000 over 3 masters vs one node (>= 90%)", "redis/cluster/dump_many/ours", "redis/cluster/dump_many/one_node", ("<=", 1.11)),
        ("Cluster: load_many 1,000 over 3 masters vs one master (one slot)", "redis/cluster/load_many/ours", "redis/cluster/load_many/one_master", None),
        ("Cluster: dump_many 1,000 over 3 masters vs one master (one slot)", "redis/cluster/dump_many/ours", "redis/cluster/dump_many/one_master", None),
    ]),
    ("gzip, libdeflate (ours) vs zlib, both at level 6", [
        ("jquery.js: compress time", "gzip/compress/ours/jquery.js/level:6", "gzip/compress/zlib/jquery.js/level:6", ("<=", 0.5)),
        ("jquery.js: compressed size", "gzip/compress/ours/jquery.js/level:6#compressed", "gzip/compress/zlib/jquery.js/level:6#compressed", ("<=", 1.01)),
        ("bootstrap.css: compress time", "gzip/compress/ours/bootstrap.css/level:6", "gzip/compress/zlib/bootstrap.css/level:6", ("<=", 0.5)),
        ("bootstrap.css: compressed size", "gzip/compress/ours/bootstrap.css/level:6#compressed", "gzip/compress/zlib/bootstrap.css/level:6#compressed", ("<=", 1.01)),
        ("bootstrap.js: compress time", "gzip/compress/ours/bootstrap.js/level:6", "gzip/compress/zlib/bootstrap.js/level:6", ("<=", 0.5)),
        ("bootstrap.js: compressed size", "gzip/compress/ours/bootstrap.js/level:6#compressed", "gzip/compress/zlib/bootstrap.js/level:6#compressed", ("<=", 1.01)),
        ("jquery.js: decompress time", "gzip/decompress/ours/jquery.js", "gzip/decompress/zlib/jquery.js", None),
        ("generated 1 MiB: compress time", "gzip/compress/ours/generated/level:6", "gzip/compress/zlib/generated/level:6", None),
        ("generated 1 MiB: compressed size", "gzip/compress/ours/generated/level:6#compressed", "gzip/compress/zlib/generated/level:6#compressed", None),
        ("generated, our level 7: time", "gzip/compress/ours/generated/level:7", "gzip/compress/zlib/generated/level:6", None),
        ("generated, our level 7: size", "gzip/compress/ours/generated/level:7#compressed", "gzip/compress/zlib/generated/level:6#compressed", None),
    ]),
    ("Memory (VolatileBackend vs unordered_map + shared_mutex)", [
        ("load 100 B, 1 thread", "memory/load/ours/100/threads:1", "memory/load/raw/100/threads:1", ("<=", 1.5)),
        ("load 1 KiB, 1 thread", "memory/load/ours/1024/threads:1", "memory/load/raw/1024/threads:1", ("<=", 1.5)),
        ("load 1 KiB, 2 threads", "memory/load/ours/1024/threads:2", "memory/load/raw/1024/threads:2", ("<=", 1.5)),
        ("load 64 KiB, 1 thread", "memory/load/ours/65536/threads:1", "memory/load/raw/65536/threads:1", ("<=", 1.5)),
        ("dump 100 B, 1 thread", "memory/dump/ours/100/threads:1", "memory/dump/raw/100/threads:1", ("<=", 1.5)),
        ("dump 1 KiB, 1 thread", "memory/dump/ours/1024/threads:1", "memory/dump/raw/1024/threads:1", ("<=", 1.5)),
        ("dump 1 KiB, 2 threads", "memory/dump/ours/1024/threads:2", "memory/dump/raw/1024/threads:2", ("<=", 1.5)),
        ("dump 64 KiB, 1 thread", "memory/dump/ours/65536/threads:1", "memory/dump/raw/65536/threads:1", ("<=", 1.5)),
        ("load 1 KiB vs original (Python dict)", "memory/load/ours/1024/threads:1", "original/memory_load", None),
        ("dump 1 KiB vs original (Python dict)", "memory/dump/ours/1024/threads:1", "original/memory_dump", None),
    ]),
    # Time ratios: a rate goal of >= 80% is a time ratio <= 1.25, >= 90% is
    # <= 1.11, >= 70% is <= 1.43. Raw = libcurl with presigned URLs (no
    # signing work) on the same radosgw; nginx = loopback ceiling.
    ("S3, radosgw on 127.0.0.1 (raw = libcurl, presigned URLs; time ratios)", [
        ("PUT 1 KiB sequential vs raw easy (rate >= 80%)", "s3/put/ours/1024", "s3/put/raw/1024", ("<=", 1.25)),
        ("GET 1 KiB sequential vs raw easy (rate >= 80%)", "s3/get/ours/1024", "s3/get/raw/1024", ("<=", 1.25)),
        ("PUT 1 KiB 16 threads vs raw multi x16 (>= 90%)", "s3/put16/ours/1024", "s3/put16/raw/1024", ("<=", 1.11)),
        ("GET 1 KiB 16 threads vs raw multi x16 (>= 90%)", "s3/get16/ours/1024", "s3/get16/raw/1024", ("<=", 1.11)),
        ("PUT 1 KiB dump_many(128) vs raw multi x16", "s3/put16/ours_batch/1024", "s3/put16/raw/1024", None),
        ("GET 1 KiB load_many(128) vs raw multi x16", "s3/get16/ours_batch/1024", "s3/get16/raw/1024", None),
        ("PUT dump_many(128) vs signed raw multi x16 (rate >= 95%)", "s3/put16/ours_batch/1024", "s3/put16/raw_signed/1024", ("<=", 1.053)),
        ("GET load_many(128) vs signed raw multi x16 (rate >= 95%)", "s3/get16/ours_batch/1024", "s3/get16/raw_signed/1024", ("<=", 1.053)),
        ("PUT dump_many(128) process CPU vs signed raw multi", "s3/put16/ours_batch/1024", "s3/put16/raw_signed/1024", ("cpu<=", 1.2)),
        ("GET load_many(128) process CPU vs signed raw multi", "s3/get16/ours_batch/1024", "s3/get16/raw_signed/1024", ("cpu<=", 1.2)),
        ("GET 1 KiB vs raw easy, libcurl SigV4 headers", "s3/get/ours/1024", "s3/get/raw_sigv4/1024", None),
        ("GET 1 MiB vs raw easy, both on radosgw", "s3/get/ours/1048576", "s3/get/raw/1048576", None),
        ("GET 1 MiB vs raw easy, libcurl SigV4 headers", "s3/get/ours/1048576", "s3/get/raw_sigv4/1048576", None),
        ("load_range 4 KiB of 1 GiB vs raw ranged GET", "s3/range4k_of_1g/ours", "s3/range4k_of_1g/raw", ("<=", 1.2)),
        ("GET 1 MiB radosgw vs raw easy on nginx (>= 70%)", "s3/get/ours/1048576", "nginx/get/raw/1048576", ("<=", 1.43)),
        ("GET 1 MiB radosgw vs wrk -c1 on nginx (>= 70%)", "s3/get/ours/1048576", "wrk/nginx_get/1048576", ("<=", 1.43)),
        ("GET 1 MiB, our client on nginx vs raw on nginx", "nginx/get/ours/1048576", "nginx/get/raw/1048576", None),
        ("GET 1 KiB, our client on nginx vs raw on nginx", "nginx/get/ours/1024", "nginx/get/raw/1024", None),
        ("GET 1 KiB raw easy on nginx vs wrk -c1", "nginx/get/raw/1024", "wrk/nginx_get/1024", None),
        ("PUT 1 KiB, our client vs raw, nginx discarding", "nginx/put/ours/1024", "nginx/put/raw/1024", None),
        ("bulk up 1000 x 1 KiB, 16 threads vs awscli", "s3/bulk_up/ours", "s3peer/bulk_up/awscli", ("<=", 0.334)),
        ("bulk down 1000 x 1 KiB, 16 threads vs awscli", "s3/bulk_down/ours", "s3peer/bulk_down/awscli", ("<=", 0.334)),
        ("bulk up 1000 x 1 KiB vs rclone", "s3/bulk_up/ours", "s3peer/bulk_up/rclone", None),
        ("bulk down 1000 x 1 KiB vs rclone", "s3/bulk_down/ours", "s3peer/bulk_down/rclone", None),
        ("CLI cp up 1000 x 1 KiB vs awscli (>= 3x faster)", "s3/cp_up/cli", "s3peer/bulk_up/awscli", ("<=", 0.334)),
        ("CLI cp up 1000 x 1 KiB vs rclone (>= 2x faster)", "s3/cp_up/cli", "s3peer/bulk_up/rclone", ("<=", 0.5)),
        ("CLI cp down 1000 x 1 KiB vs awscli (>= 5x faster)", "s3/cp_down/cli", "s3peer/bulk_down/awscli", ("<=", 0.2)),
        ("CLI cp down 1000 x 1 KiB vs rclone (>= 2x faster)", "s3/cp_down/cli", "s3peer/bulk_down/rclone", ("<=", 0.5)),
    ]),
    # bench/cli_bench.py: whole commands, process start included.
    ("CLI as a sync tool (backends; whole commands)", [
        ("cp --update 10k unchanged vs first cp, file->file", "cli/cp_update/file_file", "cli/cp_first/file_file", ("<=", 0.1)),
        ("cp --update 10k unchanged vs first cp, file->S3", "cli/cp_update/file_s3", "cli/cp_first/file_s3", ("<=", 0.1)),
        ("ls -l vs ls, 5000 S3 keys", "cli/ls_long/s3", "cli/ls/s3", ("<=", 1.5)),
    ]),
]

# Absolute figures (bench/rss_probe.cc): (label, name, goal or None).
FIGURES = [
    ("keys() over 100k keys (FileBackend): peak above RSS", "rss/keys100k/peak", None),
    ("keys() over 100k keys: peak bytes per key", "rss/keys100k/per_key", None),
    ("keys() over 100k keys: time", "rss/keys100k/time", None),
    ("JsonCache decoded copies of 4000 x 1 KiB: peak above RSS", "rss/decoded_copies/peak", None),
    ("JsonCache decoded copies: memory / stored bytes", "rss/decoded_copies/per_stored_byte", None),
    ("S3 1 GiB dump_stream: peak above RSS", "rss/s3_stream_1024MiB/upload_peak", ("<=", 64)),
    ("S3 1 GiB load_stream: peak above RSS", "rss/s3_stream_1024MiB/download_peak", ("<=", 64)),
    ("S3 1 GiB dump_stream: rate", "rss/s3_stream_1024MiB/upload_rate", None),
    ("S3 1 GiB load_stream: rate", "rss/s3_stream_1024MiB/download_rate", None),
    ("rclone copyto 1 GiB up: rate", "rclone/s3_stream_1024MiB/upload_rate", None),
    ("rclone copyto 1 GiB down: rate", "rclone/s3_stream_1024MiB/download_rate", None),
]

# (label, numerator, denominator): figures divided, shown as a ratio.
FIGURE_RATIOS = [
    ("S3 1 GiB upload time, ours / rclone", "rclone/s3_stream_1024MiB/upload_rate",
     "rss/s3_stream_1024MiB/upload_rate"),
    ("S3 1 GiB download time, ours / rclone", "rclone/s3_stream_1024MiB/download_rate",
     "rss/s3_stream_1024MiB/download_rate"),
]

SUFFIXES = ("/process_time", "/real_time", "/manual_time")
TO_NS = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}


def load_runs(paths):
    """name -> list of (repetition_index, real_ns, cpu_ns or None)."""
    runs = {}
    context = None
    figures = {}
    for path in paths:
        try:
            with open(path) as f:
                data = json.load(f)
        except (OSError, ValueError) as e:
            print(f"report: skipping {path}: {e}", file=sys.stderr)
            continue
        context = context or data.get("context") or None
        for fig in data.get("figures", []):
            figures[fig["name"]] = (fig["value"], fig["unit"])
        for b in data.get("benchmarks", []):
            if b.get("run_type", "iteration") != "iteration" or b.get("error_occurred"):
                continue
            name = b["name"]
            for suffix in SUFFIXES:  # Also before "/threads:N".
                name = name.replace(suffix, "")
            scale = TO_NS[b.get("time_unit", "ns")]
            cpu = b.get("cpu_time")
            runs.setdefault(name, []).append(
                (b.get("repetition_index", 0), b["real_time"] * scale,
                 None if cpu is None else cpu * scale))
            # Counters as pseudo-benchmarks "name#counter" (e.g. sizes).
            for counter in ("compressed",):
                if counter in b:
                    runs.setdefault(f"{name}#{counter}", []).append(
                        (b.get("repetition_index", 0), float(b[counter]), None))
    for reps in runs.values():
        reps.sort(key=lambda r: r[0])
    return runs, context, figures


def fmt_time(ns):
    for unit, scale in (("s", 1e9), ("ms", 1e6), ("us", 1e3)):
        if ns >= scale:
            return f"{ns / scale:.3g} {unit}"
    return f"{ns:.3g} ns"


def row(label, ours, base, goal, runs):
    if ours not in runs or base not in runs:
        missing = [n for n in (ours, base) if n not in runs]
        return [label, "not run: " + ", ".join(missing), "", "", "", "", ""]
    a, b = runs[ours], runs[base]
    n = min(len(a), len(b))
    ratios = [a[i][1] / b[i][1] for i in range(n)]
    cpu = [a[i][2] / b[i][2] for i in range(n)
           if a[i][2] and b[i][2]]
    med = statistics.median(ratios)
    fmt = (lambda v: f"{v / 1024:.1f} KiB") if "#" in ours else fmt_time
    verdict = ""
    if goal:
        op, limit = goal
        value = med
        if op.startswith("cpu"):  # a goal on the CPU-time ratio
            value = statistics.median(cpu) if cpu else float("inf")
        ok = value <= limit if op.endswith("<=") else value >= limit
        verdict = f"{op} {limit:g}: {'met' if ok else 'MISSED'}"
    return [label, f"{med:.2f}", f"{min(ratios):.2f}-{max(ratios):.2f}",
            f"{statistics.median(cpu):.2f}" if cpu else "-",
            fmt(statistics.median(r[1] for r in a)),
            fmt(statistics.median(r[1] for r in b)), verdict]


def render(sections, runs):
    header = ["comparison (ours / baseline)", "ratio", "min-max", "cpu",
              "ours", "baseline", "goal"]
    lines = []
    for title, pairs in sections:
        rows = [row(*p, runs) for p in pairs]
        widths = [max(len(r[i]) for r in rows + [header]) for i in range(len(header))]
        lines.append("")
        lines.append(f"## {title}")
        lines.append("| " + " | ".join(h.ljust(w) for h, w in zip(header, widths)) + " |")
        lines.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
        for r in rows:
            lines.append("| " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) + " |")
    return "\n".join(lines)


def render_figures(figures):
    header = ["figure (one run)", "value", "goal"]
    rows = []
    for label, name, goal in FIGURES:
        if name not in figures:
            rows.append([label, "not run: " + name, ""])
            continue
        value, unit = figures[name]
        verdict = ""
        if goal:
            op, limit = goal
            ok = value <= limit if op == "<=" else value >= limit
            verdict = f"{op} {limit:g} {unit}: {'met' if ok else 'MISSED'}"
        rows.append([label, f"{value:.3g} {unit}", verdict])
    for label, num, den in FIGURE_RATIOS:
        if num in figures and den in figures and figures[den][0] > 0:
            rows.append([label, f"{figures[num][0] / figures[den][0]:.2f}", ""])
        else:
            rows.append([label, "not run", ""])
    widths = [max(len(r[i]) for r in rows + [header]) for i in range(len(header))]
    lines = ["", "## Peak memory (VmHWM above VmRSS before the operation) and 1 GiB streams"]
    lines.append("| " + " | ".join(h.ljust(w) for h, w in zip(header, widths)) + " |")
    lines.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for r in rows:
        lines.append("| " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) + " |")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--markdown", help="also write the table to this file")
    parser.add_argument("results", nargs="+")
    args = parser.parse_args()
    runs, context, figures = load_runs(args.results)
    reps = max((len(r) for r in runs.values()), default=0)
    head = ["Ratios ours / baseline: median of per-repetition ratios of real "
            f"time (up to {reps} repetitions, interleaved), min-max of those "
            "ratios, median ratio of CPU time; below 1 = ours faster."]
    if context:
        head.append(f"Run {context.get('date', '?')} on {context.get('num_cpus', '?')} "
                    f"CPUs at {context.get('mhz_per_cpu', '?')} MHz, load average "
                    f"{', '.join(f'{x:.2f}' for x in context.get('load_avg', []))}.")
    text = ("\n".join(head) + "\n" + render(PAIRS, runs) + "\n" +
            render_figures(figures))
    print(text)
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(text + "\n")


if __name__ == "__main__":
    main()
