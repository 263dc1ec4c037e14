#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/, a project of its own) with clang in
# build-fuzz/ and runs each one for a bounded time from its committed seed
# corpus (fuzz/corpus/<target>/). New inputs go to build-fuzz/corpus/<target>/
# (not committed); a crash leaves its input in build-fuzz/crashes/.
#
#   scripts/fuzz.sh                  every target, FUZZ_SECONDS each (60)
#   scripts/fuzz.sh fuzz_json        only the targets named
#   scripts/fuzz.sh --build-only     only the build (CI builds it ahead)
#   FUZZ_SECONDS=30 FUZZ_JOBS=2 scripts/fuzz.sh
#
# FUZZ_JOBS targets run at once (default: the number of cores). Exits
# non-zero if a target crashes, leaks, times out or breaks a property.
# Needs Debian's clang and libclang-rt-14-dev (scripts/install-deps.sh test).
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${FUZZ_SECONDS:-60}
jobs=${FUZZ_JOBS:-$(nproc)}
build=build-fuzz

if ! command -v clang++ >/dev/null ||
  ! ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a \
    >/dev/null 2>&1; then
  echo "needs clang and libclang-rt-14-dev: apt-get install clang libclang-rt-14-dev" >&2
  exit 2
fi

cmake -S fuzz -B "$build" -G Ninja -DCMAKE_CXX_COMPILER=clang++ >/dev/null
cmake --build "$build" -j"$(nproc)"
if [ "${1:-}" = --build-only ]; then exit 0; fi

if (($#)); then
  targets=("$@")
else
  mapfile -t targets <"$build/fuzz_targets.txt"
fi
mkdir -p "$build/logs" "$build/crashes"

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

run_one() {
  local t=$1
  local dict=()
  # A target's dictionary (fuzz/<target>.dict) steers it to known-hard
  # inputs, e.g. deep JSON nesting.
  [ -f "fuzz/$t.dict" ] && dict=(-dict="fuzz/$t.dict")
  mkdir -p "$build/corpus/$t"
  "$build/$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$build/crashes/$t-" "${dict[@]}" \
    "$build/corpus/$t" "fuzz/corpus/$t" >"$build/logs/$t.log" 2>&1
}

pids=()
names=()
failed=0
for t in "${targets[@]}"; do
  while (($(jobs -rp | wc -l) >= jobs)); do wait -n || true; done
  run_one "$t" &
  pids+=($!)
  names+=("$t")
done
declare -A rc
for i in "${!pids[@]}"; do
  if wait "${pids[$i]}"; then rc[${names[$i]}]=0; else rc[${names[$i]}]=$?; fi
done

printf '%-20s %12s %10s %s\n' target executions corpus result
for t in "${targets[@]}"; do
  log="$build/logs/$t.log"
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" |
    grep -o '[0-9]*$' || echo "?")
  corpus=$(find "$build/corpus/$t" "fuzz/corpus/$t" -type f | wc -l)
  if [ "${rc[$t]}" = 0 ]; then
    result=ok
  else
    result="FAILED (exit ${rc[$t]}; see $log)"
    failed=1
  fi
  printf '%-20s %12s %10s %s\n' "$t" "$execs" "$corpus" "$result"
done
if ((failed)); then
  echo "fuzzing found a problem; crash inputs are in $build/crashes/" >&2
  for t in "${targets[@]}"; do
    [ "${rc[$t]}" = 0 ] || grep -m5 -E 'ERROR|violated|runtime error' \
      "$build/logs/$t.log" >&2 || true
  done
fi
exit "$failed"
