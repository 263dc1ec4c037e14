#!/usr/bin/env bash
# The whole test suite, on a fresh Debian 12 machine as root: installs what is
# missing (Debian packages only), builds with warnings as errors, starts a
# real S3 server (Ceph radosgw) and a Redis server on 127.0.0.1, once per
# run, runs every test, stops them.
#
#   scripts/test.sh                                Debug build in build/
#   scripts/test.sh --sanitize address,undefined   the same in build-asan/
#   scripts/test.sh --sanitize thread --targets "file_backend_test ..."
#                                                  build only these test
#                                                  programs (ctest then runs
#                                                  just their tests)
#   scripts/test.sh --build-only ...               build as the same command
#                                                  would, run nothing (CI
#                                                  builds ahead, beside tests)
# Extra arguments after -- go to ctest (e.g. -- -R File).
set -euo pipefail
cd "$(dirname "$0")/.."

sanitize=""
label=""
targets=()
ctest_extra=()
build_only=0
while (($#)); do
  case "$1" in
    --sanitize) sanitize="$2"; shift 2 ;;
    --label) label="$2"; shift 2 ;;
    --targets) read -rd "" -a targets <<<"$2" || true; shift 2 ;;
    --build-only) build_only=1; shift ;;
    --) shift; ctest_extra=("$@"); break ;;
    *) echo "usage: $0 [--sanitize LIST] [--label L] [--targets \"T...\"] [--build-only] [-- ctest args]" >&2; exit 2 ;;
  esac
done

bash scripts/install-deps.sh test

build=build
case "$sanitize" in
  "") ;;
  address,undefined|undefined,address) build=build-asan ;;
  thread) build=build-tsan ;;
  *) build="build-${sanitize//,/-}" ;;
esac

# The Python package and its pytest files (ctest tests python_*) are built in
# the plain full run only: under a sanitizer the interpreter itself would
# need the sanitizer's runtime preloaded and its own leaks excused, which
# tests the interpreter rather than our code; --targets names C++ programs.
python=ON
if [ -n "$sanitize" ] || ((${#targets[@]})); then python=OFF; fi
# Under a sanitizer, line tables (-g1) are all its reports use; full debug
# information costs a quarter of the compile time there.
# BACKENDS_DEBUG_FLAGS overrides (CI, which reads no debugger, uses -g1).
debug_flags=-g
[ -n "$sanitize" ] && debug_flags=-g1
debug_flags=${BACKENDS_DEBUG_FLAGS:-$debug_flags}
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DBACKENDS_WERROR=ON \
  -DCMAKE_CXX_FLAGS_DEBUG="$debug_flags" \
  -DBACKENDS_SANITIZE="$sanitize" -DBACKENDS_BUILD_PYTHON=$python >/dev/null
if ((${#targets[@]})); then
  cmake --build "$build" -j"$(nproc)" --target "${targets[@]}"
else
  cmake --build "$build" -j"$(nproc)"
fi
if ((build_only)); then exit 0; fi

# Tests talk only to servers on 127.0.0.1: never let the credentials chain
# reach the EC2 metadata address, whatever a test forgets to set.
export AWS_EC2_METADATA_DISABLED=true
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1}

args=(--test-dir "$build" --output-on-failure -j"$(nproc)" --timeout 600)
[ -n "$label" ] && args+=(-L "$label")
# Only the built programs' tests: ctest lists a program that was not built
# as one NAME_NOT_BUILT test; the install check needs the whole build.
if ((${#targets[@]})); then args+=(-E '_NOT_BUILT$' -LE install); fi
# The S3 tests need the server: start it for the run; if it cannot start,
# the run fails (the S3 tests never skip silently). Its in-memory store
# takes RAM only as objects fill it; the 1 GiB and 2 GiB round trips
# (s3-large, cli-large) may run side by side.
export RGW_MEM_BYTES=${RGW_MEM_BYTES:-6442450944}

# The 6 GiB server-side copy (label s3-copy-large) stores 12 GiB: in the
# full plain run it runs beside the others on a second radosgw that keeps
# objects on disk (13 GB of the disk while it runs; RGW_FILE_* settings).
# Elsewhere it skips, saying so (under CI=true it fails: exclude it there).
copy_pid=""
copy_log="$build/s3-copy-large.log"
if [ -z "$sanitize" ] && [ -z "$label" ] && ((${#targets[@]} == 0)) &&
   ((${#ctest_extra[@]} == 0)); then
  args+=(-LE s3-copy-large)
  (
    export RGW_STORE=file RGW_HOME=${RGW_FILE_HOME:-/tmp/backends-radosgw-file}
    export RGW_PORT=${RGW_FILE_PORT:-7481} RGW_MON_PORT=${RGW_FILE_MON_PORT:-3301}
    export S3_COPY_LARGE_PIECES=${S3_COPY_LARGE_PIECES:-96}
    bash scripts/s3-server.sh run ctest --test-dir "$build" --output-on-failure \
      --timeout 1500 -L s3-copy-large
  ) >"$copy_log" 2>&1 &
  copy_pid=$!
fi
# The Redis tests need their servers likewise (scripts/redis-server.sh:
# REDIS_PORT, 6390 by default).
status=0
bash scripts/s3-server.sh run bash scripts/redis-server.sh run \
  ctest "${args[@]}" "${ctest_extra[@]}" || status=$?
if [ -n "$copy_pid" ]; then
  copy_status=0
  wait "$copy_pid" || copy_status=$?
  echo "=== the 6 GiB server-side copy, on a file-backed radosgw ($copy_log):"
  cat "$copy_log"
  ((status)) || status=$copy_status
fi
exit "$status"
