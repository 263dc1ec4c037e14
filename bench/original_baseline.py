#!/usr/bin/python3
"""The original library's approach, re-implemented in Python 3, timed.

Run with Debian's /usr/bin/python3 (any Python 3 works; it needs only the
standard library). The original is a Python 2 library; this keeps what
decides its speed: its file layout (the key joined under the root, no
extension), `json.dump(value, f, sort_keys=True, indent=4,
separators=(',', ': '))` straight into the file opened for writing (no
temporary file, no rename), `json.load`, `os.remove`, and a dict for the
in-memory store.

Usage: original_baseline.py DATA_DIR OUT.json [--repetitions N] [--min-time S]

DATA_DIR is the benchmarks' data folder (BACKENDS_BENCH_DIR): the 1 KiB
document is read from DATA_DIR/json/k000000, written there by fs_bench, so
both sides use the same document in the same folder. Writes Google
Benchmark's JSON shape (names "original/..."), read by bench/report.py.
"""

import argparse
import json
import os
import sys
import time

from baseline_util import measure, run_cases, write_results


class FileSystemJsonBackend:
    """The original's filesystem JSON store, as it behaves."""

    def __init__(self, root):
        self.root = root
        self._keys = set()  # The original caches keys per process.

    def path(self, key):
        return os.path.join(self.root, key)

    def load(self, key):
        path = self.path(key)
        if not os.path.exists(path):
            return None
        try:
            with open(path) as f:
                return json.load(f)
        except ValueError:
            os.remove(path)  # The original deletes what it cannot parse.
            return None

    def dump(self, key, value):
        path = self.path(key)
        folder = os.path.dirname(path)
        if not os.path.exists(folder):
            os.makedirs(folder)
        with open(path, "w") as f:
            json.dump(value, f, sort_keys=True, indent=4, separators=(",", ": "))
        self._keys.add(key)
        return True

    def delete(self, key):
        try:
            os.remove(self.path(key))
        except OSError:
            return False
        self._keys.discard(key)
        return True


class VolatileBackend:
    def __init__(self):
        self._data = {}

    def load(self, key):
        return self._data.get(key)

    def dump(self, key, value):
        self._data[key] = value
        return True


def key_name(i):
    return "k%06d" % i




def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_dir")
    parser.add_argument("out")
    parser.add_argument("--repetitions", type=int, default=5)
    parser.add_argument("--min-time", type=float, default=0.2)
    args = parser.parse_args()

    json_dir = os.path.join(args.data_dir, "json")
    with open(os.path.join(json_dir, key_name(0))) as f:
        document = json.load(f)
    store = FileSystemJsonBackend(json_dir)
    keys = [key_name(i) for i in range(1000)]

    def json_dump(i):
        store.dump(keys[i % 1000], document)

    def json_load(i):
        if store.load(keys[i % 1000]) is None:
            sys.exit("original baseline: missing key")

    remove_dir = os.path.join(args.data_dir, "remove_original")
    os.makedirs(remove_dir, exist_ok=True)
    remove_store = FileSystemJsonBackend(remove_dir)
    text = json.dumps(document, sort_keys=True, indent=4, separators=(",", ": "))

    def remove_batch():
        # As fs_bench's remove: create 100 files untimed, time their removal.
        for k in keys[:100]:
            with open(remove_store.path(k), "w") as f:
                f.write(text)
        start = time.perf_counter()
        for k in keys[:100]:
            if not remove_store.delete(k):
                sys.exit("original baseline: remove failed")
        return time.perf_counter() - start

    def remove_measure(min_time):
        total, batches = 0.0, 0
        while total < min_time:
            total += remove_batch()
            batches += 1
        return total * 1e9 / batches, batches

    memory = VolatileBackend()
    value = "x" * 1024
    for k in keys:
        memory.dump("users/" + k, value)
    memory_keys = ["users/" + k for k in keys]

    def memory_load(i):
        if memory.load(memory_keys[i % 1000]) is None:
            sys.exit("original baseline: memory miss")

    def memory_dump(i):
        memory.dump(memory_keys[i % 1000], value)

    cases = [
        ("original/fs_json_dump", lambda t: measure(json_dump, t)),
        ("original/fs_json_load", lambda t: measure(json_load, t)),
        ("original/fs_remove", remove_measure),
        ("original/memory_load", lambda t: measure(memory_load, t)),
        ("original/memory_dump", lambda t: measure(memory_dump, t)),
    ]
    results = run_cases(cases, args.repetitions, args.min_time)
    write_results(args.out, results)


if __name__ == "__main__":
    main()
