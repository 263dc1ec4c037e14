#!/usr/bin/python3
"""python3-diskcache on the caches' workload, timed.

Run with Debian's /usr/bin/python3: the python3-diskcache package installs
there. Mirrors cache_bench.cc: 1000 keys, get of a live entry and set with
the default timeout of the original's caches (300 s), for the 1 KiB JSON
document (a dict, which diskcache pickles) and 1 KiB of text.

Usage: diskcache_baseline.py DATA_DIR OUT.json [--repetitions N] [--min-time S]

The document is read from DATA_DIR/json/k000000 (written by fs_bench); the
cache lives in DATA_DIR/diskcache, the folder our caches use. Writes Google
Benchmark's JSON shape (names "diskcache/..."), read by bench/report.py.
"""

import argparse
import json
import os
import shutil
import sys

import diskcache

from baseline_util import measure, run_cases, write_results

TIMEOUT = 300




def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_dir")
    parser.add_argument("out")
    parser.add_argument("--repetitions", type=int, default=5)
    parser.add_argument("--min-time", type=float, default=0.2)
    args = parser.parse_args()

    with open(os.path.join(args.data_dir, "json", "k000000")) as f:
        document = json.load(f)
    text = "t" * 1024
    folder = os.path.join(args.data_dir, "diskcache")
    shutil.rmtree(folder, ignore_errors=True)
    json_cache = diskcache.Cache(os.path.join(folder, "json"))
    text_cache = diskcache.Cache(os.path.join(folder, "text"))
    keys = ["k%06d" % i for i in range(1000)]
    for k in keys:
        json_cache.set(k, document, expire=TIMEOUT)
        text_cache.set(k, text, expire=TIMEOUT)

    def getter(cache):
        def body(i):
            if cache.get(keys[i % 1000]) is None:
                sys.exit("diskcache baseline: a live entry is missing")
        return body

    def setter(cache, value):
        def body(i):
            cache.set(keys[i % 1000], value, expire=TIMEOUT)
        return body

    cases = [
        ("diskcache/json_get", lambda t, b=getter(json_cache): measure(b, t)),
        ("diskcache/json_set", lambda t, b=setter(json_cache, document): measure(b, t)),
        ("diskcache/text_get", lambda t, b=getter(text_cache): measure(b, t)),
        ("diskcache/text_set", lambda t, b=setter(text_cache, text): measure(b, t)),
    ]
    results = run_cases(cases, args.repetitions, args.min_time)
    json_cache.close()
    text_cache.close()
    write_results(args.out, results, diskcache=diskcache.__version__)


if __name__ == "__main__":
    main()
