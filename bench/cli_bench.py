#!/usr/bin/env python3
"""The CLI's sync-tool figures, as ratios of runs in the same process tree.

Usage: bench/cli_bench.py BACKENDS OUT.json [--repetitions N] [--keys N]
                          [--ls-keys N] [--s3]

cp --update of unchanged keys against the first copy of the same keys:
BACKENDS (the built tool) copies --keys small files (default 10,000; 16
bytes each) from a folder into a fresh destination, then runs
`cp --update` over the same pair, which finds every key unchanged; both are
timed whole (process start included, what a user waits for), once per
repetition, folder to folder and, with --s3, folder to S3 (a fresh prefix
each repetition). ls: --ls-keys keys (default 5,000) under one S3 prefix,
`ls` and `ls -l` alternating, in a random order within each repetition.

Rows in bench/report.py: cli/cp_update/* / cli/cp_first/* (goal <= 0.1) and
cli/ls_long/s3 / cli/ls/s3 (goal <= 1.5).

Environment (with --s3): S3_ENDPOINT, S3_BUCKET and the AWS_* variables
(scripts/s3-server.sh env).
"""

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import uuid


def timed_cpu(cmd):
    """(wall seconds, CPU seconds user + system) of one run of cmd."""
    start = time.perf_counter()
    with tempfile.TemporaryFile() as err:
        child = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err)
        _, status, usage = os.wait4(child.pid, 0)
        elapsed = time.perf_counter() - start
        child.returncode = os.waitstatus_to_exitcode(status)
        if child.returncode != 0:
            err.seek(0)
            raise RuntimeError(
                f"{' '.join(cmd[:3])} failed ({child.returncode}): "
                f"{err.read().decode(errors='replace').strip()[-500:]}")
    return elapsed, usage.ru_utime + usage.ru_stime


def timed(cmd):
    return timed_cpu(cmd)[0]


def entry(name, rep, reps, seconds):
    return {"name": name, "run_name": name, "run_type": "iteration",
            "repetitions": reps, "repetition_index": rep, "iterations": 1,
            "real_time": seconds * 1e9, "time_unit": "ns"}


def make_folder(path, count):
    for i in range(count):
        sub = os.path.join(path, f"d{i // 1000:03d}")
        os.makedirs(sub, exist_ok=True)
        with open(os.path.join(sub, f"k{i:06d}"), "w") as f:
            f.write(f"value {i:09d}\n")


def s3_url(prefix):
    return (f"s3://{os.environ['S3_BUCKET']}/{prefix}"
            f"?endpoint={os.environ['S3_ENDPOINT']}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("backends")
    parser.add_argument("out")
    parser.add_argument("--repetitions", type=int, default=3)
    parser.add_argument("--keys", type=int, default=10000)
    parser.add_argument("--ls-keys", type=int, default=5000)
    parser.add_argument("--s3", action="store_true")
    args = parser.parse_args()
    tool, reps = args.backends, args.repetitions
    results = []
    work = tempfile.mkdtemp(prefix="cli-bench-")
    run_id = uuid.uuid4().hex[:8]
    try:
        source = os.path.join(work, "src")
        make_folder(source, args.keys)
        targets = [("file_file", lambda rep: os.path.join(work, f"dst{rep}"))]
        if args.s3:
            targets.append(("file_s3", lambda rep: s3_url(
                f"cli-bench-{run_id}/cp{rep}/")))
        for rep in range(reps):
            for name, target in targets:
                destination = target(rep)
                first, first_cpu = timed_cpu([tool, "-q", "cp", source,
                                              destination, "--jobs", "16"])
                update, update_cpu = timed_cpu([tool, "-q", "cp", "--update",
                                                source, destination,
                                                "--jobs", "16"])
                # CPU time too: on a loaded machine it moves less than the
                # wall time does.
                print(f"cli_bench: rep {rep} {name}: first {first:.2f} s "
                      f"(cpu {first_cpu:.2f} s), update {update:.2f} s "
                      f"(cpu {update_cpu:.2f} s), ratio "
                      f"{update / first:.3f} (cpu {update_cpu / first_cpu:.3f})",
                      file=sys.stderr)
                results.append(entry(f"cli/cp_first/{name}", rep, reps, first))
                results.append(entry(f"cli/cp_update/{name}", rep, reps,
                                     update))
        if args.s3:
            listing = os.path.join(work, "ls-src")
            make_folder(listing, args.ls_keys)
            url = s3_url(f"cli-bench-{run_id}/ls/")
            timed([tool, "-q", "cp", listing, url, "--jobs", "16"])
            for rep in range(reps):
                order = [("ls", [tool, "ls", url]),
                         ("ls_long", [tool, "ls", "-l", url])]
                random.shuffle(order)
                for name, cmd in order:
                    seconds = timed(cmd)
                    print(f"cli_bench: rep {rep} {name}: {seconds:.2f} s",
                          file=sys.stderr)
                    results.append(entry(f"cli/{name}/s3", rep, reps, seconds))
            # The bench prefix is removed with the tool itself.
            timed([tool, "-q", "rm", "--recursive",
                   s3_url(""), f"cli-bench-{run_id}/"])
    finally:
        shutil.rmtree(work, ignore_errors=True)
    with open(args.out, "w") as f:
        json.dump({"context": {}, "benchmarks": results}, f, indent=1)


if __name__ == "__main__":
    main()
