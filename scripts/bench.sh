#!/usr/bin/env bash
# The benchmarks in one command: installs what they need (Debian packages),
# builds them (Release, build-bench/), starts what they need on 127.0.0.1,
# runs each benchmark interleaved with its baselines in the same process and
# folder, runs the Python peers in the same folder, and prints one table of
# ratios (ours / baseline; median of several repetitions, with min and max).
#
#   scripts/bench.sh
#
# Environment (all optional):
#   BENCH_REPETITIONS   repetitions per benchmark (default 9)
#   BENCH_MIN_TIME      seconds per repetition (default 0.05)
#   BENCH_FILTER        a Google Benchmark regex, to run a subset
#   BACKENDS_BENCH_BUILD  build folder (default build-bench)
#   BACKENDS_BENCH_DIR  the folder benchmarks write in (default
#                       build-bench/bench-data); filesystem speed varies
#                       3-10x between folders, so compare ratios, not times.
# Needs root for apt-get on a fresh machine (otherwise the packages must be
# there). Takes about 8 minutes on 2 cores.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${BACKENDS_BENCH_BUILD:-$root/build-bench}
reps=${BENCH_REPETITIONS:-9}
min_time=${BENCH_MIN_TIME:-0.05}
filter=${BENCH_FILTER:-.}
data=${BACKENDS_BENCH_DIR:-$build/bench-data}
results=$build/results
python=/usr/bin/python3  # Debian's: python3-diskcache installs there.
began=$(date +%s)

say() {
  local t=$(($(date +%s) - began))
  printf '[%02d:%02d] %s\n' $((t / 60)) $((t % 60)) "$*" >&2
}

if [[ $(id -u) == 0 ]]; then
  say "installing packages (scripts/install-deps.sh bench)"
  "$root/scripts/install-deps.sh" bench
else
  say "not root: assuming scripts/install-deps.sh bench has been run"
fi

say "building (Release) in $build"
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DBACKENDS_BUILD_BENCHMARKS=ON -DBACKENDS_BUILD_TESTS=OFF \
  -DBACKENDS_BUILD_TOOLS=OFF >"$build.configure.log" 2>&1 ||
  { cat "$build.configure.log" >&2; exit 1; }
cmake --build "$build" -j"$(nproc)" >"$build.build.log" 2>&1 ||
  { tail -40 "$build.build.log" >&2; exit 1; }

rm -rf "$results"
mkdir -p "$results" "$data"
export BACKENDS_BENCH_DIR=$data

# run NAME [extra flags]: one benchmark program, its repetitions
# interleaved at random with its baselines'.
run() {
  local name=$1
  shift
  local bin=$build/bench/$name
  if [[ ! -x $bin ]]; then
    say "skipping $name: not built (see $build.build.log)"
    return
  fi
  say "running $name"
  "$bin" --benchmark_filter="$filter" \
    --benchmark_repetitions="$reps" \
    --benchmark_enable_random_interleaving=true \
    --benchmark_min_time="$min_time" \
    --benchmark_out="$results/$name.json" --benchmark_out_format=json \
    "$@" >"$results/$name.log" 2>&1 ||
    { tail -20 "$results/$name.log" >&2; say "$name failed"; }
}

run fs_bench
run json_bench
run memory_bench
run cache_bench
run gzip_bench

say "running the original's approach (Python 3) in the same folder"
"$python" "$root/bench/original_baseline.py" "$data" \
  "$results/original_baseline.json" --repetitions "$reps" \
  --min-time "$(awk -v t="$min_time" 'BEGIN { print (t < 0.2 ? 0.2 : t) }')" ||
  say "original_baseline.py failed"

say "running python3-diskcache in the same folder"
"$python" "$root/bench/diskcache_baseline.py" "$data" \
  "$results/diskcache_baseline.json" --repetitions "$reps" \
  --min-time "$(awk -v t="$min_time" 'BEGIN { print (t < 0.2 ? 0.2 : t) }')" ||
  say "diskcache_baseline.py failed"

say "done; results in $results"
echo "Benchmarks, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores," \
  "command: scripts/bench.sh"
"$python" "$root/bench/report.py" --markdown "$results/table.md" \
  "$results"/*.json
