#!/usr/bin/env bash
# A throw-away S3 server for the tests: Ceph radosgw (beast frontend) on a
# one-node cluster (one monitor, one OSD, no manager), all under RGW_HOME
# and bound to 127.0.0.1 only. The OSD keeps objects in memory ("memstore",
# the default) or, with RGW_STORE=file, on disk ("bluestore" on a sparse
# file under RGW_HOME, deleted on stop): for tests that store more than RAM
# should hold (memstore takes about 1.7 bytes of RAM per byte stored).
#
#   scripts/s3-server.sh start        start it, create the bucket, print the env
#   scripts/s3-server.sh env          print the env of the running server
#   scripts/s3-server.sh stop         stop it (RGW_PURGE=1 also deletes RGW_HOME)
#   scripts/s3-server.sh run CMD...   start, run CMD with the env exported,
#                                     stop; exits with CMD's status
#
# The env is printed as `export NAME=value` lines, so
#   eval "$(scripts/s3-server.sh start)"
# sets S3_ENDPOINT, S3_BUCKET, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and
# AWS_DEFAULT_REGION for the S3 tests. The keys are throw-away test keys of a
# throw-away server, never real credentials.
#
# Settings (environment): RGW_HOME (default /tmp/backends-radosgw), RGW_PORT
# (7480), RGW_MON_PORT (3300), RGW_BUCKET (testbucket), RGW_ACCESS_KEY /
# RGW_SECRET_KEY (test keys), RGW_MEM_BYTES (memstore size; all object data
# is held in RAM, default 2 GiB), RGW_STORE (memory | file), RGW_FILE_BYTES
# (the file store's size, sparse; default 32 GiB).
#
# Needs the Debian packages ceph-mon ceph-osd radosgw ceph-common and curl
# (scripts/install-deps.sh test installs them); installs nothing itself.
# Every failure exits non-zero with the reason on stderr: a test run must
# fail, never skip, when the server cannot start.
#
# Traps (radosgw 16.2): with cluster auth "none", radosgw cannot reach the
# monitor unless ms_mon_client_mode and ms_client_mode are "crc"; without
# tcp_nodelay=1 in rgw_frontends every small GET stalls ~40 ms (Nagle plus
# delayed ACK).
set -euo pipefail

D=${RGW_HOME:-/tmp/backends-radosgw}
PORT=${RGW_PORT:-7480}
MONPORT=${RGW_MON_PORT:-3300}
BUCKET=${RGW_BUCKET:-testbucket}
AK=${RGW_ACCESS_KEY:-BACKENDSTESTKEY}
SK=${RGW_SECRET_KEY:-backends-test-secret-not-a-real-one}
MEM=${RGW_MEM_BYTES:-2147483648}
STORE=${RGW_STORE:-memory}
FILE_BYTES=${RGW_FILE_BYTES:-34359738368}
case "$STORE" in
  memory) OSD_CONF="osd_objectstore = memstore
memstore_device_bytes = $MEM" ;;
  # One sparse file, no separate DB or WAL device; a small cache, since
  # the tests read back little of what they write.
  file) OSD_CONF="osd_objectstore = bluestore
bluestore_block_path = $D/osd-block
bluestore_block_create = true
bluestore_block_size = $FILE_BYTES
bluestore_block_db_create = false
bluestore_block_wal_create = false
bluestore_fsck_on_mkfs = false
bluestore_cache_autotune = false
bluestore_cache_size = 268435456
osd_memory_target = 1073741824" ;;
  *) echo "s3-server.sh: RGW_STORE is memory or file, not '$STORE'" >&2; exit 2 ;;
esac
C=(-c "$D/ceph.conf")

STARTING=0
die() {
  echo "s3-server.sh: $*" >&2
  # A half-started server is stopped, not left running.
  if [ "$STARTING" = 1 ]; then stop_server; fi
  exit 1
}

print_env() {
  cat "$D/env"
}

alive() {  # alive NAME: the daemon NAME (mon.a, osd.0, rgw) runs
  local f="$D/run/$1.pid"
  [ -f "$f" ] && kill -0 "$(cat "$f")" 2>/dev/null
}

rgw_alive() {  # radosgw runs (our launch PID, or its own pid file)
  alive rgw || alive client.rgw.a
}

answers() {  # the S3 port answers HTTP
  curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$PORT/"
}

stop_server() {
  local n f pid i
  for n in rgw client.rgw.a osd.0 mon.a; do
    f="$D/run/$n.pid"
    [ -f "$f" ] || continue
    pid=$(cat "$f")
    if kill -0 "$pid" 2>/dev/null; then
      kill "$pid"
      for i in $(seq 1 100); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
      done
      kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
    fi
    rm -f "$f"
  done
  # The file store's disk is only ever a throw-away server's.
  rm -f "$D/osd-block"
  if [ "${RGW_PURGE:-0}" = 1 ]; then rm -rf "$D"; fi
  return 0
}

start_server() {
  local missing=() p
  for p in ceph-mon ceph-osd radosgw radosgw-admin ceph ceph-authtool \
           monmaptool curl; do
    command -v "$p" >/dev/null || missing+=("$p")
  done
  if ((${#missing[@]})); then
    die "missing ${missing[*]}: run scripts/install-deps.sh test" \
        "(Debian packages ceph-mon ceph-osd radosgw ceph-common curl)"
  fi
  if rgw_alive && [ -f "$D/env" ] && answers; then
    echo "s3-server.sh: reusing the radosgw already running in $D" >&2
    print_env
    return 0
  fi
  # A half-started or crashed server from an earlier run: clean it away.
  stop_server
  if answers; then
    die "port $PORT already answers HTTP (another server?): set RGW_PORT"
  fi
  local t0
  t0=$(date +%s.%N)
  STARTING=1
  rm -rf "$D"
  mkdir -p "$D/mon.a" "$D/osd.0" "$D/run" "$D/log" "$D/rgw"
  local fsid
  fsid=$(cat /proc/sys/kernel/random/uuid)
  cat >"$D/ceph.conf" <<CONF
[global]
fsid = $fsid
mon_host = v2:127.0.0.1:$MONPORT
public_addr = 127.0.0.1
cluster_addr = 127.0.0.1
ms_bind_msgr1 = false
auth_cluster_required = none
auth_service_required = none
auth_client_required = none
ms_mon_client_mode = crc
ms_client_mode = crc
run_dir = $D/run
admin_socket = $D/run/\$name.asok
pid_file = $D/run/\$name.pid
log_file = $D/log/\$name.log
keyring = $D/keyring
osd_pool_default_size = 1
osd_pool_default_min_size = 1
osd_pool_default_pg_num = 8
osd_pool_default_pgp_num = 8
mon_allow_pool_size_one = true
mon_warn_on_pool_no_redundancy = false
mon_warn_on_insecure_global_id_reclaim_allowed = false
osd_crush_chooseleaf_type = 0
mon_max_pg_per_osd = 1000
[mon]
mon_data = $D/mon.\$id
[osd]
osd_data = $D/osd.\$id
$OSD_CONF
osd_op_num_shards = 1
osd_op_num_threads_per_shard = 2
[client.rgw.a]
rgw_frontends = beast endpoint=127.0.0.1:$PORT tcp_nodelay=1
rgw_data = $D/rgw
rgw_dns_name = localhost
# Reclaim deleted objects within seconds, not hours: the memstore holds
# everything in RAM, and a 1 GiB test object would otherwise fill it.
rgw_gc_obj_min_wait = 10
rgw_gc_processor_period = 10
CONF
  ceph-authtool --create-keyring "$D/keyring" --gen-key -n mon. \
    --cap mon 'allow *' >/dev/null || die "ceph-authtool failed"
  monmaptool --create --addv a "[v2:127.0.0.1:$MONPORT]" --fsid "$fsid" \
    "$D/monmap" >/dev/null || die "monmaptool failed"
  ceph-mon "${C[@]}" --mkfs -i a --monmap "$D/monmap" --keyring "$D/keyring" \
    >"$D/log/mon-mkfs.out" 2>&1 || die "ceph-mon --mkfs failed: see $D/log"
  ceph-mon "${C[@]}" -i a >"$D/log/mon-start.out" 2>&1 ||
    die "ceph-mon did not start (port $MONPORT taken?): see $D/log"
  local uuid id i
  uuid=$(cat /proc/sys/kernel/random/uuid)
  id=$(timeout 60 ceph "${C[@]}" osd new "$uuid" 2>"$D/log/osd-new.out") ||
    die "ceph osd new failed (monitor unreachable?): see $D/log"
  ceph-osd "${C[@]}" -i "$id" --mkfs --osd-uuid "$uuid" \
    >"$D/log/osd-mkfs.out" 2>&1 || die "ceph-osd --mkfs failed: see $D/log"
  ceph-osd "${C[@]}" -i "$id" >"$D/log/osd-start.out" 2>&1 ||
    die "ceph-osd did not start: see $D/log"
  for i in $(seq 1 60); do
    timeout 10 ceph "${C[@]}" osd stat 2>/dev/null | grep -q "1 up" && break
    sleep 1
  done
  timeout 10 ceph "${C[@]}" osd stat 2>/dev/null | grep -q "1 up" ||
    die "the OSD did not come up within 60 s: see $D/log"
  # radosgw in the foreground, in the background of this script: its PID is
  # known at once (a daemonized radosgw writes its pid file only when ready).
  radosgw "${C[@]}" -n client.rgw.a -f </dev/null >"$D/log/rgw-start.out" 2>&1 &
  echo $! >"$D/run/rgw.pid"
  for i in $(seq 1 240); do
    answers && break
    alive rgw || die "radosgw exited while starting: see $D/log"
    sleep 0.5
  done
  answers || die "radosgw does not answer on 127.0.0.1:$PORT: see $D/log"
  radosgw-admin "${C[@]}" user create --uid=tester --display-name=tester \
    --access-key="$AK" --secret="$SK" >/dev/null 2>"$D/log/user.out" ||
    die "radosgw-admin user create failed: see $D/log/user.out"
  # The bucket, with a SigV4-signed PUT (curl >= 7.75 signs it).
  local code
  code=$(curl -s -o "$D/log/mkbucket.out" -w '%{http_code}' -X PUT \
    --aws-sigv4 "aws:amz:us-east-1:s3" --user "$AK:$SK" \
    -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" \
    "http://127.0.0.1:$PORT/$BUCKET") || true
  [ "$code" = 200 ] ||
    die "creating bucket $BUCKET answered $code: $(cat "$D/log/mkbucket.out")"
  cat >"$D/env" <<ENV
export S3_ENDPOINT=http://127.0.0.1:$PORT
export S3_BUCKET=$BUCKET
export AWS_ACCESS_KEY_ID=$AK
export AWS_SECRET_ACCESS_KEY=$SK
export AWS_DEFAULT_REGION=us-east-1
ENV
  STARTING=0
  echo "s3-server.sh: radosgw ready on 127.0.0.1:$PORT in $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s" >&2
  print_env
}

case "${1:-}" in
  start) start_server ;;
  stop) stop_server ;;
  env)
    rgw_alive && [ -f "$D/env" ] ||
      die "no radosgw running in $D: run '$0 start'"
    print_env
    ;;
  run)
    shift
    [ $# -gt 0 ] || die "usage: $0 run COMMAND [ARGS...]"
    # Stop the server at the end only if this run started it.
    started=1
    if rgw_alive && [ -f "$D/env" ] && answers; then started=0; fi
    envtext=$(start_server)
    if [ "$started" = 1 ]; then trap stop_server EXIT; fi
    eval "$envtext"
    set +e
    "$@"
    status=$?
    set -e
    exit "$status"
    ;;
  *)
    echo "usage: $0 start|stop|env|run COMMAND..." >&2
    exit 2
    ;;
esac
