#!/usr/bin/env bash
# The benchmarks in one command: installs what they need (Debian packages),
# builds them (Release, build-bench/), starts what they need on 127.0.0.1,
# runs each benchmark interleaved with its baselines in the same process and
# folder, runs the Python peers in the same folder, and prints one table of
# ratios (ours / baseline; median of several repetitions, with min and max).
#
#   scripts/bench.sh            the table (20-25 minutes)
#   scripts/bench.sh --scale    only the millions-of-keys rows of the tool
#                               (bench/cli_scale.py: ls, cp, cp --update of
#                               100,000 and 1,000,000 keys; the first run
#                               fills the stores, about 10 minutes;
#                               and ls of SQLite stores of as many keys,
#                               and cp from them into a folder)
#   scripts/bench.sh --s3-scale only the S3 listing rows (bench/
#                               s3_list_scale.py: backends ls against boto3's
#                               paginator and rclone lsf over 10,000 and
#                               100,000 objects; the first run on a radosgw
#                               fills them, about 10 minutes)
#
# Environment (all optional):
#   BENCH_REPETITIONS   repetitions per benchmark (default 9)
#   BENCH_MIN_TIME      seconds per repetition (default 0.05)
#   BENCH_FILTER        a Google Benchmark regex, to run a subset
#   BACKENDS_BENCH_BUILD  build folder (default build-bench)
#   BACKENDS_BENCH_DIR  the folder benchmarks write in (default
#                       build-bench/bench-data); filesystem speed varies
#                       3-10x between folders, so compare ratios, not times.
#   BENCH_SCALE_KEYS    the key counts of --scale (default 100000,1000000)
#   BENCH_S3_SCALE_KEYS the key counts of --s3-scale (default 10000,100000)
#   REDIS_BENCH_PORT    the port of redis_bench's server (default 6399)
#   REDIS_BENCH_CLUSTER_PORT  the first of its cluster's 6 ports (default 6411)
#   BENCH_S3=0          skip the S3 part (radosgw, nginx, wrk, awscli, rclone)
#   BENCH_S3_MIN_TIME   seconds per repetition of s3_bench (default 0.3)
#   BENCH_S3_PEER_REPS  repetitions of the bulk peers and wrk (default 3)
#   BENCH_STREAM_MIB    size of the S3 stream RSS probe (default 1024)
#   RGW_HOME, RGW_PORT, RGW_MON_PORT  which radosgw (scripts/s3-server.sh);
#                       one already running there is reused, else started
#                       (with RGW_MEM_BYTES default 6 GiB) and stopped after
# Needs root for apt-get on a fresh machine (otherwise the packages must be
# there). Takes 20-25 minutes on 2 cores (24 min 53 s and 20 min 22 s on two
# machines, 2026-12-05).
set -euo pipefail

scale=0
case "${1:-}" in
  "") ;;
  --scale) scale=1 ;;
  --s3-scale) scale=s3 ;;
  *) echo "usage: $0 [--scale | --s3-scale]" >&2; exit 2 ;;
esac

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
  -DBACKENDS_BUILD_TOOLS=ON -DBACKENDS_BUILD_PYTHON=ON \
  >"$build.configure.log" 2>&1 ||
  { cat "$build.configure.log" >&2; exit 1; }
cmake --build "$build" -j"$(nproc)" >"$build.build.log" 2>&1 ||
  { tail -40 "$build.build.log" >&2; exit 1; }

if [[ $scale == s3 ]]; then
  say "running bench/s3_list_scale.py (S3 listings of 10,000 and 100,000 keys)"
  mkdir -p "$data/s3-scale"
  s3_started=0
  if ! s3env=$(bash "$root/scripts/s3-server.sh" env 2>/dev/null) ||
    ! curl -s -o /dev/null --max-time 2 \
      "$(sed -n 's/^export S3_ENDPOINT=//p' <<<"$s3env")/"; then
    s3env=$(RGW_MEM_BYTES=${RGW_MEM_BYTES:-4294967296} \
      bash "$root/scripts/s3-server.sh" start)
    s3_started=1
  fi
  eval "$s3env"
  export AWS_EC2_METADATA_DISABLED=true
  status=0
  "$python" "$root/bench/s3_list_scale.py" "$build/tools/backends" \
    "$data/s3-scale" --keys "${BENCH_S3_SCALE_KEYS:-10000,100000}" || status=$?
  if [[ $s3_started == 1 ]]; then
    bash "$root/scripts/s3-server.sh" stop >/dev/null 2>&1 || true
  fi
  exit "$status"
fi

if [[ $scale == 1 ]]; then
  say "running bench/cli_scale.py (the tool at 100,000 and 1,000,000 keys)"
  mkdir -p "$data/scale"
  exec "$python" "$root/bench/cli_scale.py" "$build/tools/backends" \
    "$data/scale" --keys "${BENCH_SCALE_KEYS:-100000,1000000}"
fi

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
run sqlite_bench

# Redis: a throw-away server and 6-node cluster (scripts/redis-server.sh, its
# own REDIS_HOME and ports) for redis_bench, stopped after.
if [[ -x $build/bench/redis_bench ]]; then
  export REDIS_HOME=${REDIS_HOME:-$build/redis}
  export REDIS_PORT=${REDIS_BENCH_PORT:-6399}
  export REDIS_CLUSTER_PORT=${REDIS_BENCH_CLUSTER_PORT:-6411}
  export REDIS_TLS_CLUSTER=0  # no row needs it
  if redisenv=$(bash "$root/scripts/redis-server.sh" start); then
    eval "$redisenv"
    run redis_bench
    if [[ -d $build/python/backends ]]; then
      say "running bench/python_bench.py --redis (vs python3-redis)"
      PYTHONPATH=$build/python "$python" "$root/bench/python_bench.py" \
        "$data" "$results/python_redis_table.md" --redis \
        --repetitions "$reps" \
        --min-time "$(awk -v t="$min_time" 'BEGIN { print (t < 0.2 ? 0.2 : t) }')" \
        >"$results/python_redis_bench.log" 2>&1 ||
        { tail -5 "$results/python_redis_bench.log" >&2; say "python_bench.py --redis failed"; }
    fi
    bash "$root/scripts/redis-server.sh" stop >/dev/null 2>&1 || true
  else
    say "redis-server did not start: redis_bench skipped"
  fi
fi

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

# Peak RSS of keys() over 100k keys (the folder is filled once, then reused).
if [[ -x $build/bench/rss_probe ]]; then
  say "measuring peak RSS of keys() over 100k keys"
  "$build/bench/rss_probe" keys "$data/rss-keys100k" "$results/rss_keys.json" \
    >"$results/rss_keys.log" 2>&1 ||
    { tail -5 "$results/rss_keys.log" >&2; say "rss_probe keys failed"; }
  say "measuring the memory of a JsonCache's decoded copies"
  "$build/bench/rss_probe" decoded "$data/rss-decoded" \
    "$results/rss_decoded.json" >"$results/rss_decoded.log" 2>&1 ||
    { tail -5 "$results/rss_decoded.log" >&2; say "rss_probe decoded failed"; }
fi

# Streaming gzip (S3 uploads of the gzip types) of a 256 MiB script against
# libdeflate on the whole buffer: time, size and peak RSS, with their goals.
if [[ -x $build/bench/gzip_stream_bench ]]; then
  say "measuring streaming gzip of a 256 MiB script"
  "$build/bench/gzip_stream_bench" "$data" >"$results/gzip_stream.log" 2>&1 ||
    say "gzip_stream_bench missed a goal (see $results/gzip_stream.log)"
  cat "$results/gzip_stream.log" >&2
fi

# S3: radosgw (reused if one runs; stopped at the end only if started here),
# nginx on loopback as the GET ceiling and a discarding PUT endpoint, and the
# peers (awscli, rclone, wrk) in the same run.
s3_started=0
nginx_pid_file=
s3_cleanup() {
  if [[ -n $nginx_pid_file && -f $nginx_pid_file ]]; then
    kill "$(cat "$nginx_pid_file")" 2>/dev/null || true
  fi
  if [[ $s3_started == 1 ]]; then
    bash "$root/scripts/s3-server.sh" stop >/dev/null 2>&1 || true
  fi
}
trap s3_cleanup EXIT

start_nginx() {  # serves $build/nginx/www on a free 127.0.0.1 port
  local dir=$build/nginx
  local www=$dir/www
  local base=$www/${S3_BUCKET:-testbucket}/bench
  [[ -n $build ]] || return 1
  mkdir -p "$base" "$dir/tmp"
  head -c 1024 /dev/urandom >"$base/k000000"
  head -c 1048576 /dev/urandom >"$base/large"
  nginx_port=$("$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  local user=
  [[ $(id -u) == 0 ]] && user="user root;"
  # PUTs are answered 200 and their bodies discarded: the PUT ceiling.
  printf '%s\n' "$user" \
    "worker_processes 1; pid $dir/nginx.pid; error_log $dir/error.log;" \
    "events { worker_connections 256; }" \
    "http { access_log off; client_body_temp_path $dir/tmp;" \
    "  sendfile on; tcp_nodelay on; keepalive_requests 1000000;" \
    "  keepalive_timeout 120s; client_max_body_size 8m;" \
    "  default_type application/octet-stream;" \
    "  server { listen 127.0.0.1:$nginx_port; root $www;" \
    "    location / { if (\$request_method = PUT) { return 200; } } } }" \
    >"$dir/nginx.conf"
  nginx -c "$dir/nginx.conf" -p "$dir" 2>"$dir/start.log" ||
    { cat "$dir/start.log" >&2; return 1; }
  nginx_pid_file=$dir/nginx.pid
  local i
  for i in $(seq 1 50); do
    curl -s -o /dev/null "http://127.0.0.1:$nginx_port/" && return 0
    sleep 0.1
  done
  return 1
}

if [[ ${BENCH_S3:-1} != 0 && -x $build/bench/s3_bench ]]; then
  say "starting radosgw (scripts/s3-server.sh; reused if running)"
  s3env=
  if s3env=$(bash "$root/scripts/s3-server.sh" env 2>/dev/null) &&
    curl -s -o /dev/null --max-time 2 \
      "$(sed -n 's/^export S3_ENDPOINT=//p' <<<"$s3env")/"; then
    say "reusing the radosgw already running"
  # Objects removed on radosgw keep their space until its garbage
  # collection (hours): room for the 1 GiB stream probe of several runs.
  elif s3env=$(RGW_MEM_BYTES=${RGW_MEM_BYTES:-6442450944} \
    bash "$root/scripts/s3-server.sh" start); then
    s3_started=1
  else
    s3env=
    say "radosgw did not start: S3 rows not run"
  fi
  if [[ -n $s3env ]]; then
    eval "$s3env"
    export AWS_EC2_METADATA_DISABLED=true
    if start_nginx; then
      export BENCH_NGINX_PORT=$nginx_port
      say "nginx on 127.0.0.1:$nginx_port"
    else
      say "nginx did not start: nginx rows not run"
    fi
    # Network round trips are noisier than syscalls: longer repetitions.
    run s3_bench --benchmark_min_time="${BENCH_S3_MIN_TIME:-0.3}"
    mib=${BENCH_STREAM_MIB:-1024}
    say "running the S3 peers: awscli, rclone (bulk, $mib MiB), wrk (nginx)"
    peer_args=()
    if [[ -x $build/tools/backends ]]; then
      peer_args+=(--cli "$build/tools/backends")  # the CLI cp rows
    fi
    if [[ -n ${BENCH_NGINX_PORT:-} ]]; then
      nginx_base=http://127.0.0.1:$BENCH_NGINX_PORT/$S3_BUCKET/bench
      peer_args+=(--nginx-url-small "$nginx_base/k000000"
        --nginx-url-large "$nginx_base/large")
    fi
    "$python" "$root/bench/s3_peers.py" "$build/bench/s3_bench" \
      "$results/s3_peers.json" --repetitions "${BENCH_S3_PEER_REPS:-3}" \
      --stream-mib "$mib" --figures-out "$results/rclone_stream.json" \
      "${peer_args[@]}" 2>"$results/s3_peers.log" ||
      { tail -5 "$results/s3_peers.log" >&2; say "s3_peers.py failed"; }
    say "measuring peak RSS of a $mib MiB S3 dump_stream/load_stream"
    for phase in up down; do  # one process each: separate peaks
      "$build/bench/rss_probe" "s3-$phase" "$results/rss_s3_$phase.json" \
        "$mib" >"$results/rss_s3_$phase.log" 2>&1 ||
        { tail -5 "$results/rss_s3_$phase.log" >&2; say "rss_probe s3-$phase failed"; }
    done
  fi
fi

# The CLI as a sync tool: cp --update against the first copy, ls -l against
# ls (the S3 rows while radosgw, if it started, still runs).
if [[ -x $build/tools/backends ]]; then
  say "running bench/cli_bench.py (cp --update, ls -l)"
  "$python" "$root/bench/cli_bench.py" "$build/tools/backends" \
    "$results/cli_bench.json" --repetitions "${BENCH_CLI_REPS:-3}" \
    ${S3_ENDPOINT:+--s3} 2>"$results/cli_bench.log" ||
    { tail -5 "$results/cli_bench.log" >&2; say "cli_bench.py failed"; }
fi

# The Python package vs json, diskcache and boto3 (S3 rows while radosgw,
# if it started, still runs).
say "running bench/python_bench.py (the Python package)"
PYTHONPATH=$build/python "$python" "$root/bench/python_bench.py" "$data" \
  "$results/python_table.md" --repetitions "$reps" \
  --min-time "$(awk -v t="$min_time" 'BEGIN { print (t < 0.2 ? 0.2 : t) }')" \
  >"$results/python_bench.log" 2>&1 ||
  { tail -5 "$results/python_bench.log" >&2; say "python_bench.py failed"; }

say "done; results in $results"
echo "Benchmarks, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores," \
  "command: scripts/bench.sh"
"$python" "$root/bench/report.py" --markdown "$results/table.md" \
  "$results"/*.json
if [[ -f $results/python_table.md ]]; then cat "$results/python_table.md"; fi
if [[ -f $results/python_redis_table.md ]]; then
  cat "$results/python_redis_table.md"
fi
