#!/usr/bin/env bash
# The caches' rows of scripts/bench.sh (JsonCache get and set of 1 KiB JSON
# vs python3-diskcache) on several filesystems: the folder the benchmarks
# use, tmpfs, and fresh ext4 and XFS images with default options on loop
# devices. A set replaces the entry's file by rename, and what that costs is
# the filesystem's; this shows how much.
#
#   scripts/bench-cache-fs.sh
#
# Needs root (mount, loop devices) and the Release build of scripts/bench.sh
# in build-bench/ (run that first). Takes about 2 minutes. Environment:
# BENCH_REPETITIONS (default 5), BENCH_MIN_TIME (default 0.05).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${BACKENDS_BENCH_BUILD:-$root/build-bench}
reps=${BENCH_REPETITIONS:-5}
min_time=${BENCH_MIN_TIME:-0.05}
python=/usr/bin/python3  # Debian's: python3-diskcache installs there.
[[ $(id -u) == 0 ]] || { echo "needs root (mount)" >&2; exit 2; }
[[ -x $build/bench/cache_bench && -x $build/bench/fs_bench ]] ||
  { echo "run scripts/bench.sh first (builds $build)" >&2; exit 2; }
"$root/scripts/install-deps.sh" bench

scratch=$(mktemp -d /tmp/backends-cache-fs.XXXXXX)
cleanup() {
  for m in "$scratch"/mnt-*; do umount "$m" 2>/dev/null || true; done
  rm -rf "$scratch"
}
trap cleanup EXIT

# measure NAME DIR: one line of ratios for the folder DIR.
measure() {
  local name=$1 dir=$2
  mkdir -p "$dir"
  export BACKENDS_BENCH_DIR=$dir
  # fs_bench writes the document diskcache's baseline reads (json/k000000).
  "$build/bench/fs_bench" --benchmark_filter='fs/json_load/ours' \
    --benchmark_min_time=0.01 >"$scratch/$name.log" 2>&1 ||
    { cat "$scratch/$name.log" >&2; return 1; }
  "$build/bench/cache_bench" --benchmark_filter='json_(get|set)' \
    --benchmark_repetitions="$reps" --benchmark_min_time="$min_time" \
    --benchmark_enable_random_interleaving=true \
    --benchmark_out="$scratch/$name-ours.json" --benchmark_out_format=json \
    >"$scratch/$name.log" 2>&1 || { cat "$scratch/$name.log" >&2; return 1; }
  "$python" "$root/bench/diskcache_baseline.py" "$dir" \
    "$scratch/$name-diskcache.json" --repetitions "$reps" \
    --min-time "$(awk -v t="$min_time" 'BEGIN { print (t < 0.2 ? 0.2 : t) }')"
  "$python" - "$name" "$(df -T "$dir" | awk 'NR == 2 { print $2 }')" \
    "$scratch/$name-ours.json" "$scratch/$name-diskcache.json" <<'PY'
import json, statistics, sys
name, fstype, ours, peer = sys.argv[1:5]
times = {}
for path in (ours, peer):
    for b in json.load(open(path))["benchmarks"]:
        if b.get("run_type", "iteration") == "iteration":
            times.setdefault(b["name"].split("/real_time")[0], []).append(
                b["real_time"])
m = {k: statistics.median(v) for k, v in times.items()}
def r(a, b): return "%.2f" % (m[a] / m[b])
print("| %-22s | %-5s | %5s | %5s | %5s | %7.1f | %7.1f | %6.1f |" % (
    name, fstype, r("cache/json_get/ours", "diskcache/json_get"),
    r("cache/json_set/ours", "diskcache/json_set"),
    r("cache/json_set/raw", "diskcache/json_set"),
    m["cache/json_set/ours"] / 1e3, m["diskcache/json_set"] / 1e3,
    m["cache/json_get/ours"] / 1e3))
PY
}

echo "| folder                 | fs    | get   | set   | rename | set us  | dc set  | get us |"
echo "|------------------------|-------|-------|-------|--------|---------|---------|--------|"
measure "bench folder" "$build/bench-data"
mkdir -p "$scratch/mnt-tmpfs"
mount -t tmpfs -o size=512m tmpfs "$scratch/mnt-tmpfs"
measure "tmpfs" "$scratch/mnt-tmpfs/data"
for fs in ext4 xfs; do
  truncate -s 2G "$scratch/$fs.img"
  "mkfs.$fs" -q "$scratch/$fs.img" >/dev/null
  mkdir -p "$scratch/mnt-$fs"
  mount -o loop "$scratch/$fs.img" "$scratch/mnt-$fs"
  measure "$fs image (defaults)" "$scratch/mnt-$fs/data"
done
echo "get, set: ours / diskcache (goals <= 0.5, <= 1.0); rename: a bare"
echo "temp file + write + rename of the same bytes / diskcache's set; times"
echo "are medians of $reps repetitions (us). Same run, same machine."
