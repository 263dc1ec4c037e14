#!/usr/bin/env python3
"""The tool at millions of keys: peak memory and time of `backends ls` and
`backends cp` over folder stores of N keys (folders of 1,000 small values),
and of `cp --update` run again over the copy; `ls` of a SQLite store of the
same N keys ("d0000/k0000"...), and `cp` from it into a folder. Each command
is its own process, so its peak resident set (GNU time's %M) is its own;
"start" is `ls` of an empty store of that kind, the tool's memory before any
key.

  /usr/bin/python3 bench/cli_scale.py BACKENDS_BIN DATA_DIR [--keys 100000,1000000]
      [--stores file,sqlite]

Source stores are filled once under DATA_DIR and reused by later runs (a
marker file beside each folder records a finished fill; the SQLite database
is written in one transaction, in the store's table format, and renamed into
place when complete). Copies are removed by 4 `rm -rf` in parallel (a
million files: Python's rmtree took close to an hour under load). Prints one row per figure
with its goal and exits 1 if a goal is missed.
"""
import argparse
import os
import random
import shlex
import sqlite3
import subprocess
import sys
import tempfile
import time

PER_FOLDER = 1000
SQLITE_TABLE = "backends"  # the store's default table (sqlite.h)


def key_names(count):
    for folder in range(count // PER_FOLDER):
        for key in range(PER_FOLDER):
            yield f"d{folder:04d}/k{key:04d}", b"v%d" % key


def remove_tree(path):
    """Removes `path` (if there); returns the seconds it took. Its folders
    go in parallel (4 `rm -rf` at a time, 25 folders each): unlinking a
    million files is kernel time, 2.6x faster so than one `rm -rf` or
    Python's rmtree (100,000 files: 27.8 s against 73.8 s and 72.2 s)."""
    start = time.perf_counter()
    if os.path.isdir(path):
        subprocess.run(f"find {shlex.quote(path)} -mindepth 1 -maxdepth 1 "
                       "-print0 | xargs -0 -r -n 25 -P 4 rm -rf --",
                       shell=True, check=True)
    subprocess.run(["rm", "-rf", "--", path], check=True)
    return time.perf_counter() - start


def sqlite_store(path, count):
    """A SQLite store of `count` keys at `path` (reused when complete), in
    the table the store creates: key, modified_ns, version, value."""
    if os.path.exists(path):
        return
    partial = path + ".partial"
    for leftover in (partial, partial + "-wal", partial + "-shm"):
        if os.path.exists(leftover):
            os.unlink(leftover)
    db = sqlite3.connect(partial)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute(f'CREATE TABLE "{SQLITE_TABLE}" (key TEXT PRIMARY KEY NOT NULL,'
               " modified_ns INTEGER NOT NULL, version INTEGER NOT NULL,"
               " value BLOB NOT NULL)")
    now = time.time_ns()
    rng = random.Random(count)
    with db:  # one transaction
        db.executemany(
            f'INSERT INTO "{SQLITE_TABLE}" VALUES (?, ?, ?, ?)',
            ((key, now, rng.getrandbits(62) + 1, value)
             for key, value in key_names(count)))
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    os.rename(partial, path)


def fill(root, count):
    marker = root + ".filled"  # beside the store: not one of its keys
    if os.path.exists(marker):
        return
    remove_tree(root)
    for name, value in key_names(count):
        path = os.path.join(root, name)
        if name.endswith("/k0000"):
            os.makedirs(os.path.dirname(path))
        with open(path, "wb") as f:
            f.write(value)
    with open(marker, "w") as f:
        f.write(str(count))


def run(args):
    """Runs the tool; returns (seconds, peak RSS in MiB, stdout lines).

    The peak is GNU time's (%M): the tool is its child, forked from a small
    process. Our own wait4 would not do: a child forked (or vforked) from
    this Python keeps Python's resident size as its peak across exec."""
    with tempfile.NamedTemporaryFile("r") as peak_file:
        start = time.perf_counter()
        proc = subprocess.Popen(
            ["/usr/bin/time", "-f", "%M", "-o", peak_file.name] + args,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        lines = 0
        for _ in proc.stdout:
            lines += 1
        err = proc.stderr.read()
        status = proc.wait()
        seconds = time.perf_counter() - start
        if status != 0:
            sys.exit(f"{' '.join(args)} failed: "
                     f"{err.decode(errors='replace')}")
        peak_kib = int(peak_file.read().split()[-1])
    return seconds, peak_kib / 1024, lines


def print_rows(rows):
    """Prints (label, figure, goal, met) rows; returns 1 if a goal is
    missed, else 0."""
    width = max(len(r[0]) for r in rows)
    missed = 0
    for label, figure, goal, met in rows:
        print(f"{label:<{width}}  {figure:<32} goal {goal:<10} "
              f"{'met' if met else 'MISSED'}")
        missed += not met
    return 1 if missed else 0


def copy_rows(tool, source_url, copy, count, label, rows):
    """cp `source_url` into the empty folder `copy`, then cp --update; the
    copy is removed after."""
    remove_tree(copy)
    os.makedirs(copy)
    first, cp_peak, _ = run([tool, "cp", source_url, "file://" + copy])
    rows.append((f"cp {label} {count:,} keys: peak RSS", f"{cp_peak:.1f} MiB "
                 f"({first:.1f} s)", "<= 64 MiB", cp_peak <= 64))
    again, _, _ = run([tool, "cp", "--update", source_url, "file://" + copy])
    rows.append((f"cp --update {label} {count:,} unchanged keys / first cp",
                 f"{again / first:.3f}x ({again:.1f} s vs {first:.1f} s)",
                 "<= 0.1x", again / first <= 0.1))
    seconds = remove_tree(copy)
    print(f"removed the copy of {count:,} keys in {seconds:.1f} s (4 rm -rf in parallel)")


def ls_rows(tool, kind, url, count, start_mib, rows):
    """ls of `url` (`count` keys): appends its row, returns its peak."""
    seconds, peak, lines = run([tool, "ls", url])
    if lines != count:
        sys.exit(f"ls {url} printed {lines} keys, expected {count}")
    rows.append((f"ls {kind} {count:,} keys: peak RSS above start",
                 f"{peak - start_mib:.1f} MiB ({seconds:.1f} s)",
                 "<= 32 MiB", peak - start_mib <= 32))
    return peak


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("tool")
    parser.add_argument("data")
    parser.add_argument("--keys", default="100000,1000000")
    parser.add_argument("--stores", default="file,sqlite",
                        help="which sources: file, sqlite or both")
    options = parser.parse_args()
    counts = [int(n) for n in options.keys.split(",")]
    stores = options.stores.split(",")
    tool = options.tool

    rows = []  # (label, figure, goal text, met)
    ls_peaks = {}  # (kind, count) -> peak MiB
    for kind in stores:
        if kind == "file":
            empty = os.path.join(options.data, "empty")
            os.makedirs(empty, exist_ok=True)
            empty_url = "file://" + empty
        elif kind == "sqlite":
            empty = os.path.join(options.data, "sqlite-0.db")
            sqlite_store(empty, 0)
            empty_url = "sqlite://" + empty
        else:
            sys.exit(f"--stores: unknown store {kind!r} (file or sqlite)")
        _, start_mib, _ = run([tool, "ls", empty_url])
        print(f"start (ls of an empty {kind} store): peak RSS "
              f"{start_mib:.1f} MiB")
        for count in counts:
            if kind == "file":
                source = os.path.join(options.data, f"keys-{count}")
                fill(source, count)
                url = "file://" + source
            else:
                source = os.path.join(options.data, f"sqlite-{count}.db")
                sqlite_store(source, count)
                url = "sqlite://" + source
            ls_peaks[kind, count] = ls_rows(tool, kind, url, count,
                                            start_mib, rows)
            copy_rows(tool, url, os.path.join(options.data, f"copy-{count}"),
                      count, f"{kind}->file", rows)
        if len(counts) > 1:
            small, large = counts[0], counts[-1]
            ratio = ls_peaks[kind, large] / ls_peaks[kind, small]
            rows.append((f"ls {kind} peak RSS at {large:,} / at {small:,} keys",
                         f"{ratio:.3f}x", "<= 1.1x", ratio <= 1.1))

    return print_rows(rows)


if __name__ == "__main__":
    sys.exit(main())
