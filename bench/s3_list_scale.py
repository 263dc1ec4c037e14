#!/usr/bin/env python3
"""Listing N keys on S3 (radosgw): `backends ls s3://...` against boto3's
list_objects_v2 paginator and `rclone lsf -R` (with and without
--fast-list), in the same run over the same bucket prefix, repetitions
interleaved; and the peak resident set of `backends ls` at each N (it must
not grow with N).

  /usr/bin/python3 bench/s3_list_scale.py BACKENDS_BIN DATA_DIR
      [--keys 10000,100000] [--repetitions 3] [--jobs 32]

Environment: S3_ENDPOINT, S3_BUCKET and the AWS_* variables
(scripts/s3-server.sh env). Each N lives under the prefix
scale-list/nN/ (keys "d0000/k0000"..., folders of 1,000), filled once by
`backends cp --jobs J` from a folder store under DATA_DIR and reused by
later runs: the object scale-list/nN.filled marks a finished fill (a
memstore radosgw loses it when it stops). Filling 100,000 objects takes a
few minutes. Prints one row per figure with its goal; exits 1 if a goal is
missed.
"""
import argparse
import os
import random
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cli_scale import fill, print_rows, run as run_tool  # noqa: E402
from s3_peers import rclone_env  # noqa: E402

# boto3's paginator in its own process, printing keys as `ls` does; the
# seconds of the listing loop alone (after import and client set-up) go to
# stderr.
BOTO3_LS = r"""
import sys, time, boto3
endpoint, bucket, prefix = sys.argv[1:4]
client = boto3.client("s3", endpoint_url=endpoint)
start = time.perf_counter()
out = sys.stdout
cut = len(prefix)
for page in client.get_paginator("list_objects_v2").paginate(
        Bucket=bucket, Prefix=prefix):
    for item in page.get("Contents", ()):
        out.write(item["Key"][cut:] + "\n")
out.flush()
print(time.perf_counter() - start, file=sys.stderr)
"""


def timed(cmd, env=None):
    """Runs cmd; returns (seconds, stdout line count, stderr)."""
    start = time.perf_counter()
    done = subprocess.run(cmd, env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"{cmd[0]} failed ({done.returncode}): "
                 f"{done.stderr.decode(errors='replace')[-500:]}")
    return seconds, done.stdout.count(b"\n"), done.stderr.decode()


def s3_url(prefix):
    return (f"s3://{os.environ['S3_BUCKET']}/{prefix}"
            f"?endpoint={os.environ['S3_ENDPOINT']}")


def ensure_filled(tool, data, count, jobs):
    """The prefix of `count` objects, filled unless its marker exists."""
    import boto3
    client = boto3.client("s3", endpoint_url=os.environ["S3_ENDPOINT"])
    bucket = os.environ["S3_BUCKET"]
    prefix = f"scale-list/n{count}/"
    marker = f"scale-list/n{count}.filled"
    try:
        client.head_object(Bucket=bucket, Key=marker)
        return prefix
    except client.exceptions.ClientError:
        pass
    source = os.path.join(data, f"keys-{count}")
    fill(source, count)
    print(f"filling s3://{bucket}/{prefix} with {count:,} objects "
          f"(cp --jobs {jobs})", file=sys.stderr)
    seconds, _, _ = timed([tool, "cp", "--jobs", str(jobs), "file://" + source,
                           s3_url(prefix)])
    print(f"filled in {seconds:.0f} s", file=sys.stderr)
    client.put_object(Bucket=bucket, Key=marker, Body=str(count).encode())
    return prefix


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("tool")
    parser.add_argument("data")
    parser.add_argument("--keys", default="10000,100000")
    parser.add_argument("--repetitions", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=32)
    options = parser.parse_args()
    counts = [int(n) for n in options.keys.split(",")]
    os.makedirs(options.data, exist_ok=True)
    bucket = os.environ["S3_BUCKET"]
    env = rclone_env(options.data)

    rows = []  # (label, figure, goal text, met)
    peaks = {}
    for count in counts:
        prefix = ensure_filled(options.tool, options.data, count, options.jobs)
        remote = f"peer:{bucket}/{prefix}"
        commands = {
            "backends ls": [options.tool, "ls", s3_url(prefix)],
            "boto3 paginator": [sys.executable, "-c", BOTO3_LS,
                                os.environ["S3_ENDPOINT"], bucket, prefix],
            "rclone lsf -R": ["rclone", "lsf", "-R", "--files-only", remote],
            "rclone lsf -R --fast-list": ["rclone", "lsf", "-R", "--files-only",
                                          "--fast-list", remote],
        }
        times = {name: [] for name in commands}
        boto3_loop = []
        ours_peak = []
        for _ in range(options.repetitions):
            order = list(commands)
            random.shuffle(order)
            for name in order:
                if name == "backends ls":
                    seconds, peak, lines = run_tool(commands[name])
                    ours_peak.append(peak)
                else:
                    seconds, lines, err = timed(commands[name], env)
                    if name == "boto3 paginator":
                        boto3_loop.append(float(err.split()[-1]))
                if lines != count:
                    sys.exit(f"{name} listed {lines} keys, expected {count}")
                times[name].append(seconds)
        med = {name: statistics.median(t) for name, t in times.items()}
        loop = statistics.median(boto3_loop)
        peaks[count] = max(ours_peak)
        ours = med["backends ls"]
        print(f"{count:,} keys, medians of {options.repetitions}: " +
              ", ".join(f"{name} {t:.2f} s" for name, t in med.items()) +
              f", boto3's listing loop alone {loop:.2f} s; backends ls peak "
              f"RSS {peaks[count]:.1f} MiB")
        rows.append((f"boto3 paginator loop / backends ls, {count:,} keys",
                     f"{loop / ours:.2f}x ({loop:.2f} s vs {ours:.2f} s)",
                     ">= 3x", loop / ours >= 3))
        rows.append((f"boto3 process / backends ls, {count:,} keys",
                     f"{med['boto3 paginator'] / ours:.2f}x", ">= 3x",
                     med["boto3 paginator"] / ours >= 3))
        for name in ("rclone lsf -R", "rclone lsf -R --fast-list"):
            rows.append((f"backends ls / {name}, {count:,} keys",
                         f"{ours / med[name]:.2f}x ({med[name]:.2f} s)",
                         "<= 1.0x", ours / med[name] <= 1.0))
    if len(counts) > 1:
        small, large = counts[0], counts[-1]
        ratio = peaks[large] / peaks[small]
        rows.append((f"backends ls peak RSS at {large:,} / at {small:,} keys",
                     f"{ratio:.3f}x ({peaks[large]:.1f} vs "
                     f"{peaks[small]:.1f} MiB)", "<= 1.1x", ratio <= 1.1))

    return print_rows(rows)


if __name__ == "__main__":
    sys.exit(main())
