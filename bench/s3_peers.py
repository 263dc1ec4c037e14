#!/usr/bin/env python3
"""S3 peers on the same server as ours, interleaved, one JSON for report.py.

Usage: bench/s3_peers.py S3_BENCH OUT.json [--repetitions N]
                         [--nginx-url-small URL --nginx-url-large URL]

Bulk: 1000 x 1 KiB files up and down with ours (S3_BENCH's s3/bulk_*
benchmarks, 16 threads, run as a child process with BENCH_S3_BULK=1),
/usr/bin/aws s3 cp --recursive, rclone copy (a remote made of RCLONE_CONFIG_*
environment variables, Ceph provider) and, with --cli, our CLI's
`backends cp --jobs 16` (file -> s3 and back), in a random order within each repetition; every upload goes to a
fresh prefix, every download into a fresh folder. Times are wall-clock of the
whole command, process start included (what a user waits for).

GET ceiling: wrk (1 thread, 1 connection, 2 s) against nginx serving the
same 1 KiB and 1 MiB files as S3_BENCH's nginx benchmarks.

Large objects (--stream-mib N --figures-out F.json): rclone copyto of one
N MiB file up and down (its multipart defaults), once each; the rates go to
F.json as figures, next to rss_probe's rates for ours.

Environment: S3_ENDPOINT, S3_BUCKET, AWS_ACCESS_KEY_ID,
AWS_SECRET_ACCESS_KEY, AWS_DEFAULT_REGION (scripts/s3-server.sh env).
"""

import argparse
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time

COUNT, SIZE = 1000, 1024


def run(cmd, env=None):
    start = time.perf_counter()
    done = subprocess.run(cmd, env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"{cmd[0]} failed ({done.returncode}): "
                           f"{done.stderr.strip()[-500:]}")
    return elapsed, done.stdout


def count_files(folder):
    n = sum(len(files) for _, _, files in os.walk(folder))
    if n != COUNT:
        raise RuntimeError(f"downloaded {n} files into {folder}, want {COUNT}")


def rclone_flags(endpoint):
    return ["--s3-provider", "Ceph", "--s3-endpoint", endpoint,
            "--s3-access-key-id", os.environ["AWS_ACCESS_KEY_ID"],
            "--s3-secret-access-key", os.environ["AWS_SECRET_ACCESS_KEY"],
            "--s3-region", os.environ.get("AWS_DEFAULT_REGION", "us-east-1")]


def rclone_env(work=None):
    """rclone's environment; with `work`, also a remote named `peer` made of
    environment variables (and a config file path inside `work`, so rclone
    writes nothing elsewhere)."""
    env = dict(os.environ)
    env.pop("AWS_CA_BUNDLE", None)  # plain http; rclone insists on reading it
    if work:
        env.update({
            "RCLONE_CONFIG": os.path.join(work, "rclone.conf"),
            "RCLONE_CONFIG_PEER_TYPE": "s3",
            "RCLONE_CONFIG_PEER_PROVIDER": "Ceph",
            "RCLONE_CONFIG_PEER_ENDPOINT": os.environ["S3_ENDPOINT"],
            "RCLONE_CONFIG_PEER_ACCESS_KEY_ID": os.environ["AWS_ACCESS_KEY_ID"],
            "RCLONE_CONFIG_PEER_SECRET_ACCESS_KEY":
                os.environ["AWS_SECRET_ACCESS_KEY"],
            "RCLONE_CONFIG_PEER_REGION":
                os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
        })
    return env


def rclone_stream(work, mib):
    """Rates (MiB/s) of rclone copyto of one `mib` MiB file up and down."""
    bucket = os.environ.get("S3_BUCKET", "testbucket")
    flags = rclone_flags(os.environ["S3_ENDPOINT"])
    env = rclone_env()
    src = os.path.join(work, "stream-src")
    with open(src, "wb") as f:
        block = os.urandom(1 << 20)
        for _ in range(mib):
            f.write(block)
    remote = f":s3:{bucket}/peers/rclone-stream-{os.getpid()}"
    dst = os.path.join(work, "stream-dst")
    try:
        up, _ = run(["rclone", "copyto", src, remote] + flags, env)
        down, _ = run(["rclone", "copyto", remote, dst] + flags, env)
        if os.path.getsize(dst) != mib << 20:
            raise RuntimeError("rclone downloaded the wrong size")
    finally:
        subprocess.run(["rclone", "deletefile", remote] + flags, env=env,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for path in (src, dst):
            if os.path.exists(path):
                os.remove(path)
    return mib / up, mib / down


class Peers:
    def __init__(self, bench, work, cli=None):
        self.bench, self.work, self.cli_path = bench, work, cli
        self.endpoint = os.environ["S3_ENDPOINT"]
        self.bucket = os.environ.get("S3_BUCKET", "testbucket")
        self.src = os.path.join(work, "src")
        os.makedirs(self.src, exist_ok=True)
        for i in range(COUNT):
            with open(os.path.join(self.src, f"k{i:06d}"), "wb") as f:
                f.write(bytes((97 + (i + j) % 26) for j in range(SIZE)))
        self.run_id = f"{os.getpid()}-{int(time.time())}"

    def fresh(self, name):
        path = tempfile.mkdtemp(prefix=name + "-", dir=self.work)
        return path

    def ours(self, rep):
        env = dict(os.environ, BENCH_S3_BULK="1")
        _, out = run([self.bench, "--benchmark_filter=s3/bulk",
                      "--benchmark_format=json"], env)
        times = {}
        for b in json.loads(out)["benchmarks"]:
            scale = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}[b["time_unit"]]
            times[b["name"].replace("/real_time", "").replace("/iterations:1", "")] = (
                b["real_time"] * scale)
        return times["s3/bulk_up/ours"], times["s3/bulk_down/ours"]

    def aws(self, rep):
        prefix = f"s3://{self.bucket}/peers/{self.run_id}/aws{rep}/"
        base = ["/usr/bin/aws", "s3", "cp", "--recursive", "--quiet",
                "--endpoint-url", self.endpoint]
        env = dict(os.environ, AWS_EC2_METADATA_DISABLED="true")
        up, _ = run(base + [self.src, prefix], env)
        dst = self.fresh("aws")
        down, _ = run(base + [prefix, dst], env)
        count_files(dst)
        shutil.rmtree(dst)
        return up, down

    def cli(self, rep):
        """Our CLI: backends cp file -> s3 and back, 16 jobs."""
        region = os.environ.get("AWS_DEFAULT_REGION", "us-east-1")
        store = (f"s3://{self.bucket}/peers/{self.run_id}/cli{rep}"
                 f"?endpoint={self.endpoint}&region={region}&path_style=1")
        env = dict(os.environ, AWS_EC2_METADATA_DISABLED="true")
        up, _ = run([self.cli_path, "cp", "--jobs", "16", "file://" + self.src,
                     store], env)
        dst = self.fresh("cli")
        down, _ = run([self.cli_path, "cp", "--jobs", "16", store,
                       "file://" + dst], env)
        count_files(dst)
        shutil.rmtree(dst)
        return up, down

    def rclone(self, rep):
        remote = f"peer:{self.bucket}/peers/{self.run_id}/rclone{rep}"
        env = rclone_env(self.work)
        up, _ = run(["rclone", "copy", self.src, remote], env)
        dst = self.fresh("rclone")
        down, _ = run(["rclone", "copy", remote, dst], env)
        count_files(dst)
        shutil.rmtree(dst)
        return up, down


def wrk(url, seconds=2):
    _, out = run(["wrk", "-t1", "-c1", f"-d{seconds}s", url])
    match = re.search(r"Requests/sec:\s*([0-9.]+)", out)
    if not match or float(match.group(1)) <= 0:
        raise RuntimeError(f"wrk: no rate in its output: {out[-300:]}")
    return 1e9 / float(match.group(1))  # ns per request


def entry(name, rep, reps, ns):
    return {"name": name, "run_name": name, "run_type": "iteration",
            "repetitions": reps, "repetition_index": rep, "iterations": 1,
            "real_time": ns, "time_unit": "ns"}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bench")
    parser.add_argument("out")
    parser.add_argument("--repetitions", type=int, default=3)
    parser.add_argument("--nginx-url-small")
    parser.add_argument("--nginx-url-large")
    parser.add_argument("--skip-bulk", action="store_true")
    parser.add_argument("--cli", help="our CLI (backends) for the cp rows")
    parser.add_argument("--stream-mib", type=int, default=0)
    parser.add_argument("--figures-out")
    args = parser.parse_args()
    results = []
    reps = args.repetitions
    work = tempfile.mkdtemp(prefix="s3-peers-")
    try:
        if not args.skip_bulk:
            peers = Peers(args.bench, work, args.cli)
            tools = [("ours", peers.ours), ("awscli", peers.aws),
                     ("rclone", peers.rclone)]
            if args.cli:
                tools.append(("cli", peers.cli))
            for rep in range(reps):
                random.shuffle(tools)
                for name, fn in tools:
                    try:
                        up, down = fn(rep)
                    except (RuntimeError, OSError, KeyError, ValueError) as e:
                        print(f"s3_peers: {name}: {e}", file=sys.stderr)
                        continue
                    print(f"s3_peers: rep {rep} {name}: up {up:.2f} s, "
                          f"down {down:.2f} s", file=sys.stderr)
                    prefix = "s3" if name in ("ours", "cli") else "s3peer"
                    kind = "cp" if name == "cli" else "bulk"
                    results.append(entry(f"{prefix}/{kind}_up/{name}", rep, reps, up * 1e9))
                    results.append(entry(f"{prefix}/{kind}_down/{name}", rep, reps, down * 1e9))
        for rep in range(reps):
            for size, url in ((1024, args.nginx_url_small),
                              (1048576, args.nginx_url_large)):
                if not url:
                    continue
                try:
                    results.append(entry(f"wrk/nginx_get/{size}", rep, reps, wrk(url)))
                except (RuntimeError, OSError) as e:
                    print(f"s3_peers: wrk: {e}", file=sys.stderr)
        if args.stream_mib and args.figures_out:
            try:
                up, down = rclone_stream(work, args.stream_mib)
                tag = f"rclone/s3_stream_{args.stream_mib}MiB/"
                with open(args.figures_out, "w") as f:
                    json.dump({"figures": [
                        {"name": tag + "upload_rate", "value": up, "unit": "MiB/s"},
                        {"name": tag + "download_rate", "value": down, "unit": "MiB/s"},
                    ]}, f, indent=1)
                print(f"s3_peers: rclone {args.stream_mib} MiB: up {up:.0f} "
                      f"MiB/s, down {down:.0f} MiB/s", file=sys.stderr)
            except (RuntimeError, OSError, KeyError) as e:
                print(f"s3_peers: rclone stream: {e}", file=sys.stderr)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    with open(args.out, "w") as f:
        json.dump({"context": {}, "benchmarks": results}, f, indent=1)


if __name__ == "__main__":
    main()
