#!/usr/bin/python3
"""The Python package against the Python ways of doing the same work, timed
in the same run and folder, printed as one table of ratios with the goals of
issue 12.

Usage: PYTHONPATH=BUILD/python python_bench.py DATA_DIR OUT.md
           [--repetitions N] [--min-time S] [--redis]

Each repetition runs every case once, in turn (interleaved), for min-time
seconds; a row is the median of the per-repetition ratios ours / baseline of
the time per operation (below 1: ours is faster), with their min-max. The S3
rows run when the environment names a server (S3_ENDPOINT, S3_BUCKET and
credentials, as scripts/s3-server.sh prints them). Needs Debian's
python3-diskcache and python3-boto3. With --redis, only the Redis rows of
issue 15 (the RedisRawBackend against Debian's python3-redis, redis-py, on
the server REDIS_URL names, as scripts/redis-server.sh prints it).
"""

import argparse
import concurrent.futures
import json
import marshal
import os
import re
import shutil
import subprocess
import tempfile
import statistics
import threading
import time
import urllib.parse

import baseline_util

import backends

# A 1 KiB JSON record (written in the original's format: 1 KiB on disk).
RECORD = {
    "id": 42, "name": "Ada Lovelace", "email": "ada@example.org",
    "active": True, "score": 98.5, "manager": None,
    "tags": ["math", "engines", "poetry", "notes", "analysis"],
    "address": {"street": "12 St James's Square", "city": "London",
                "postcode": "SW1Y 4JH", "country": "GB"},
    "history": [{"year": 1833 + i, "event": "event number %d" % i,
                 "ok": i % 2 == 0} for i in range(6)],
}


def measure(body, min_time):
    """Seconds per call of body(i)."""
    return baseline_util.measure(body, min_time)[0] * 1e-9


def original_dump(path, value):
    with open(path, "w") as f:
        json.dump(value, f, sort_keys=True, indent=4, separators=(",", ": "))


def original_load(path):
    with open(path) as f:
        return json.load(f)


def local_cases(data):
    ours = backends.FileSystemJsonBackend(os.path.join(data, "ours"))
    theirs = os.path.join(data, "original")
    os.makedirs(theirs, exist_ok=True)
    keys = ["k%04d" % i for i in range(100)]
    for key in keys:
        ours.dump(key, RECORD)
        original_dump(os.path.join(theirs, key), RECORD)
    memory = backends.VolatileBackend()
    memory.dump("k", RECORD)
    texts = {"k": json.dumps(RECORD, sort_keys=True, indent=4,
                             separators=(",", ": "))}
    # What building the Python objects alone costs: marshal.loads is
    # CPython's fastest way from bytes to fresh objects.
    blob = marshal.dumps(RECORD)
    raw = backends.VolatileRawBackend()
    raw.dump("k", texts["k"].encode())
    raw_files = backends.FileSystemRawBackend(os.path.join(data, "ours"))
    import diskcache
    cache_dir = os.path.join(data, "jsoncache")
    cache = backends.JsonCache(cache_dir, 3600)
    peer = diskcache.Cache(os.path.join(data, "diskcache"))
    for key in keys:
        cache.set(key, RECORD)
        peer.set(key, RECORD, expire=3600)
    # Issue 14: the SQLite store and JsonCache on SQLite, same folder.
    sqlite_path = os.path.join(data, "sqlite.db")
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(sqlite_path + suffix):
            os.remove(sqlite_path + suffix)
    store = backends.SqliteJsonBackend(sqlite_path, table="store")
    sqlite_cache = backends.JsonCache.sqlite(sqlite_path, 3600, table="cache")
    for key in keys:
        store.dump(key, RECORD)
        sqlite_cache.set(key, RECORD)
    return [
        ("SqliteJsonBackend.dump vs diskcache.Cache.set", 0.7,
         lambda i: store.dump(keys[i % 100], RECORD),
         lambda i: peer.set(keys[i % 100], RECORD, expire=3600)),
        ("SqliteJsonBackend.load vs diskcache.Cache.get", 0.7,
         lambda i: store.load(keys[i % 100]),
         lambda i: peer.get(keys[i % 100])),
        ("JsonCache.sqlite set vs diskcache.Cache.set", 0.7,
         lambda i: sqlite_cache.set(keys[i % 100], RECORD),
         lambda i: peer.set(keys[i % 100], RECORD, expire=3600)),
        ("JsonCache.sqlite get vs diskcache.Cache.get (live)", 0.5,
         lambda i: sqlite_cache.get(keys[i % 100]),
         lambda i: peer.get(keys[i % 100])),
        ("FileSystemJsonBackend.load vs open + json.load", 1 / 3,
         lambda i: ours.load(keys[i % 100]),
         lambda i: original_load(os.path.join(theirs, keys[i % 100]))),
        ("FileSystemJsonBackend.dump vs open + json.dump", 1.0,
         lambda i: ours.dump(keys[i % 100], RECORD),
         lambda i: original_dump(os.path.join(theirs, keys[i % 100]), RECORD)),
        ("VolatileBackend.load vs json.loads from a dict", 0.5,
         lambda i: memory.load("k"), lambda i: json.loads(texts["k"])),
        ("JsonCache.get vs diskcache.Cache.get (live)", 0.2,
         lambda i: cache.get(keys[i % 100]),
         lambda i: peer.get(keys[i % 100])),
        ("bound: marshal.loads vs json.loads (objects alone)", None,
         lambda i: marshal.loads(blob), lambda i: json.loads(texts["k"])),
        ("bound: marshal.loads vs diskcache.Cache.get", None,
         lambda i: marshal.loads(blob), lambda i: peer.get(keys[i % 100])),
        ("bound: VolatileRawBackend.load (1 KiB bytes) vs json.loads", None,
         lambda i: raw.load("k"), lambda i: json.loads(texts["k"])),
        # What a file load costs before any JSON: reading the same files.
        ("bound: FileSystemRawBackend.load (same files) vs open + json.load",
         None, lambda i: raw_files.load(keys[i % 100]),
         lambda i: original_load(os.path.join(theirs, keys[i % 100]))),
        ("bound: marshal.loads vs open + json.load", None,
         lambda i: marshal.loads(blob),
         lambda i: original_load(os.path.join(theirs, keys[i % 100]))),
        # The stat that proves a cache file unchanged, alone (from Python,
        # so with a stat_result's cost on top of the system call).
        ("bound: os.stat of the entry vs diskcache.Cache.get", None,
         lambda i: os.stat(os.path.join(cache_dir, keys[i % 100])),
         lambda i: peer.get(keys[i % 100])),
    ]


def s3_cases():
    import boto3
    import botocore.config
    endpoint, bucket = os.environ["S3_ENDPOINT"], os.environ["S3_BUCKET"]
    prefix = "pybench/"
    ours = backends.S3RawBackend(bucket, endpoint=endpoint, path_style=True,
                                 prefix=prefix)
    client = boto3.client(
        "s3", endpoint_url=endpoint,
        config=botocore.config.Config(max_pool_connections=16,
                                      s3={"addressing_style": "path"}))
    body = json.dumps(RECORD, sort_keys=True, indent=4,
                      separators=(",", ": ")).encode()
    keys = ["k%04d" % i for i in range(1000)]
    ours.dump_many({key: body for key in keys})

    def boto_get(key):
        client.get_object(Bucket=bucket, Key=prefix + key)["Body"].read()

    def threads16(get):
        def work(t):
            for i in range(t, 800, 16):
                get(keys[i])
        threads = [threading.Thread(target=work, args=(t,))
                   for t in range(16)]
        start = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return time.perf_counter() - start

    pool = concurrent.futures.ThreadPoolExecutor(16)
    cases = []
    if shutil.which("wrk"):
        # The server's own ceiling: wrk with 16 connections on a presigned
        # GET of the same object, per request (ours: 800 GETs per call).
        url = ours.presign(keys[0], 3600)
        put_url = ours.presign(keys[1], 3600, "PUT")
        cases.append((
            "bound: 16-thread GET (per request) vs wrk -c16 on radosgw", None,
            lambda i: threads16(ours.load) / 800,
            lambda i: 1 / wrk_rate(url, 16), "timed once"))
        cases.append((
            "bound: sequential PUT vs wrk -c1 PUT on radosgw", None,
            lambda i: measure(lambda j: ours.dump(keys[1], body), 0.5),
            lambda i: 1 / wrk_rate(put_url, 1, body), "timed once"))
    return cases + [
        ("S3 GET 1 KiB sequential vs boto3", 1 / 1.8,
         lambda i: ours.load(keys[i % 1000]),
         lambda i: boto_get(keys[i % 1000])),
        ("S3 PUT 1 KiB sequential vs boto3", 1 / 1.8,
         lambda i: ours.dump(keys[i % 1000], body),
         lambda i: client.put_object(Bucket=bucket, Key=prefix + keys[i % 1000],
                                     Body=body)),
        ("S3 GET 1 KiB, 16 threads, one store vs boto3", 1 / 2.5,
         lambda i: threads16(ours.load), lambda i: threads16(boto_get)),
        ("S3 load_many(1000) vs boto3 16-thread pool", 1 / 3,
         lambda i: ours.load_many(keys),
         lambda i: list(pool.map(boto_get, keys))),
    ]


def redis_cases():
    import redis
    url = os.environ["REDIS_URL"]
    prefix = "pybench:"
    ours = backends.RedisRawBackend(url, prefix=prefix)
    theirs = redis.Redis.from_url(url)
    value = os.urandom(1024)
    keys = ["k%04d" % i for i in range(1000)]
    full_keys = [prefix + key for key in keys]
    items = {key: value for key in keys}
    ours.dump_many(items)

    def pipelined_get():
        pipe = theirs.pipeline(transaction=False)
        for key in full_keys:
            pipe.get(key)
        return pipe.execute()

    def pipelined_set():
        pipe = theirs.pipeline(transaction=False)
        for key in full_keys:
            pipe.set(key, value)
        return pipe.execute()

    cases = []
    if shutil.which("redis-benchmark"):
        # The loopback round trip both clients pay: redis-benchmark's own
        # C client, one connection, no pipelining, the same value size.
        where = urllib.parse.urlsplit(url)
        for verb, ours_call in (
                ("GET", lambda j: ours.load(keys[j % 1000])),
                ("SET", lambda j: ours.dump(keys[j % 1000], value))):
            cases.append((
                f"bound: {verb} sequential vs redis-benchmark -c1 -P1 -d1024",
                None, lambda i, call=ours_call: measure(call, 0.5),
                lambda i, verb=verb: 1 / redis_benchmark_rate(where, verb),
                "timed once"))
    return cases + [
        ("Redis GET 1 KiB sequential vs redis-py (rate >= 1.3x)", 1 / 1.3,
         lambda i: ours.load(keys[i % 1000]),
         lambda i: theirs.get(full_keys[i % 1000])),
        ("Redis SET 1 KiB sequential vs redis-py (rate >= 1.3x)", 1 / 1.3,
         lambda i: ours.dump(keys[i % 1000], value),
         lambda i: theirs.set(full_keys[i % 1000], value)),
        ("Redis load_many(1000) vs redis-py pipeline (>= 1.5x)", 1 / 1.5,
         lambda i: ours.load_many(keys), lambda i: pipelined_get()),
        ("Redis dump_many(1000) vs redis-py pipeline (>= 1.5x)", 1 / 1.5,
         lambda i: ours.dump_many(items), lambda i: pipelined_set()),
    ]


def redis_benchmark_rate(where, verb):
    """Requests per second of redis-benchmark, one connection, no
    pipelining, 1 KiB values."""
    out = subprocess.run(
        ["redis-benchmark", "-h", where.hostname, "-p", str(where.port),
         "-c", "1", "-P", "1", "-d", "1024", "-n", "20000", "-q",
         "-t", verb.lower()],
        capture_output=True, text=True, check=True).stdout
    return float(re.search(verb + r": ([0-9.]+) requests per second",
                           out).group(1))


def wrk_rate(url, connections, put_body=None):
    """Requests per second of wrk on url for one second (a PUT of put_body
    when given)."""
    command = ["wrk", f"-t{min(connections, 2)}", f"-c{connections}", "-d1s"]
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as script:
        if put_body is not None:
            script.write('wrk.method = "PUT"\nwrk.body = [==['
                         + put_body.decode() + ']==]\n')
            script.flush()
            command += ["-s", script.name]
        out = subprocess.run(command + [url], capture_output=True, text=True,
                             check=True).stdout
    if "Non-2xx" in out or "Socket errors" in out:
        raise RuntimeError("wrk saw failed requests:\n" + out)
    return float(re.search(r"Requests/sec:\s*([0-9.]+)", out).group(1))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_dir")
    parser.add_argument("out")
    parser.add_argument("--repetitions", type=int, default=5)
    parser.add_argument("--min-time", type=float, default=0.2)
    parser.add_argument("--redis", action="store_true",
                        help="only the Redis rows (server: REDIS_URL)")
    args = parser.parse_args()
    data = os.path.join(args.data_dir, "python")
    os.makedirs(data, exist_ok=True)
    if args.redis:
        cases = redis_cases()
    else:
        cases = local_cases(data)
        if os.environ.get("S3_ENDPOINT"):
            cases += s3_cases()
    ratios = {name: [] for name, *_ in cases}
    times = {name: ([], []) for name, *_ in cases}
    for _ in range(args.repetitions):
        for name, _, ours, baseline, *timed_once in cases:
            if timed_once:  # each side returns its own time per request
                a, b = ours(0), baseline(0)
            else:
                a = measure(ours, args.min_time)
                b = measure(baseline, args.min_time)
            ratios[name].append(a / b)
            times[name][0].append(a)
            times[name][1].append(b)
    lines = [
        ("### Python package on Redis (issue 15), 1 KiB bytes" if args.redis
         else "### Python package (issue 12), 1 KiB JSON")
        + "; ratio = ours / baseline time, below 1 = ours faster",
        "| comparison (ours / baseline) | ratio | min-max | ours | baseline"
        " | goal |",
        "|---|---|---|---|---|---|",
    ]
    for name, goal, *_ in cases:
        r = ratios[name]
        ratio = statistics.median(r)
        verdict = "" if goal is None else \
            f"<= {goal:.3g}: " + ("met" if ratio <= goal else "MISSED")
        lines.append(
            f"| {name} | {ratio:.2f} | {min(r):.2f}-{max(r):.2f} | "
            f"{fmt(statistics.median(times[name][0]))} | "
            f"{fmt(statistics.median(times[name][1]))} | "
            f"{verdict} |")
    text = "\n".join(lines) + "\n"
    with open(args.out, "w") as f:
        f.write(text)
    print(text)


def fmt(seconds):
    for unit, scale in (("s", 1), ("ms", 1e-3), ("us", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds / 1e-9:.3g} ns"


if __name__ == "__main__":
    main()
