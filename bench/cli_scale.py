#!/usr/bin/env python3
"""The tool at millions of keys: peak memory and time of `backends ls` and
`backends cp` over folder stores of N keys (folders of 1,000 small values),
and of `cp --update` run again over the copy. Each command is its own
process, so its peak resident set (wait4's ru_maxrss) is its own; "start" is
`ls` of an empty store, the tool's memory before any key.

  /usr/bin/python3 bench/cli_scale.py BACKENDS_BIN DATA_DIR [--keys 100000,1000000]

Stores are filled once under DATA_DIR and reused by later runs (a marker
file beside each records a finished fill). Prints one row per figure with its goal and
exits 1 if a goal is missed.
"""
import argparse
import os
import shutil
import subprocess
import sys
import time

PER_FOLDER = 1000


def fill(root, count):
    marker = root + ".filled"  # beside the store: not one of its keys
    if os.path.exists(marker):
        return
    shutil.rmtree(root, ignore_errors=True)
    for folder in range(count // PER_FOLDER):
        path = os.path.join(root, f"d{folder:04d}")
        os.makedirs(path)
        for key in range(PER_FOLDER):
            with open(os.path.join(path, f"k{key:04d}"), "wb") as f:
                f.write(b"v%d" % key)
    with open(marker, "w") as f:
        f.write(str(count))


def run(args):
    """Runs the tool; returns (seconds, peak RSS in MiB, stdout lines)."""
    start = time.perf_counter()
    proc = subprocess.Popen(args, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    lines = 0
    for _ in proc.stdout:
        lines += 1
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"{' '.join(args)} failed: {err.decode(errors='replace')}")
    return seconds, usage.ru_maxrss / 1024, lines


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("tool")
    parser.add_argument("data")
    parser.add_argument("--keys", default="100000,1000000")
    options = parser.parse_args()
    counts = [int(n) for n in options.keys.split(",")]

    empty = os.path.join(options.data, "empty")
    os.makedirs(empty, exist_ok=True)
    _, start_mib, _ = run([options.tool, "ls", "file://" + empty])
    print(f"start (ls of an empty store): peak RSS {start_mib:.1f} MiB")

    rows = []  # (label, figure, goal text, met)
    ls_peaks = {}
    for count in counts:
        source = os.path.join(options.data, f"keys-{count}")
        fill(source, count)
        seconds, peak, lines = run([options.tool, "ls", "file://" + source])
        if lines != count:
            sys.exit(f"ls printed {lines} keys, expected {count}")
        ls_peaks[count] = peak
        rows.append((f"ls {count:,} keys: peak RSS above start",
                     f"{peak - start_mib:.1f} MiB ({seconds:.1f} s)",
                     "<= 32 MiB", peak - start_mib <= 32))

        copy = os.path.join(options.data, f"copy-{count}")
        shutil.rmtree(copy, ignore_errors=True)
        os.makedirs(copy)
        first, cp_peak, _ = run([options.tool, "cp", "file://" + source,
                                 "file://" + copy])
        rows.append((f"cp {count:,} keys: peak RSS", f"{cp_peak:.1f} MiB "
                     f"({first:.1f} s)", "<= 64 MiB", cp_peak <= 64))
        again, _, _ = run([options.tool, "cp", "--update", "file://" + source,
                           "file://" + copy])
        rows.append((f"cp --update {count:,} unchanged keys / first cp",
                     f"{again / first:.3f}x ({again:.1f} s vs {first:.1f} s)",
                     "<= 0.1x", again / first <= 0.1))
        shutil.rmtree(copy, ignore_errors=True)

    if len(counts) > 1:
        small, large = counts[0], counts[-1]
        ratio = ls_peaks[large] / ls_peaks[small]
        rows.append((f"ls peak RSS at {large:,} / at {small:,} keys",
                     f"{ratio:.3f}x", "<= 1.1x", ratio <= 1.1))

    width = max(len(r[0]) for r in rows)
    missed = 0
    for label, figure, goal, met in rows:
        print(f"{label:<{width}}  {figure:<32} goal {goal:<10} "
              f"{'met' if met else 'MISSED'}")
        missed += not met
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
