#!/usr/bin/env bash
# Throw-away Redis servers for the tests: Debian's redis-server bound to
# 127.0.0.1 only, no persistence, everything under REDIS_HOME.
#
#   scripts/redis-server.sh start        start, print the env
#   scripts/redis-server.sh env          print the env of the running servers
#   scripts/redis-server.sh stop         stop them (REDIS_PURGE=1 also deletes REDIS_HOME)
#   scripts/redis-server.sh run CMD...   start, run CMD with the env exported,
#                                        stop; exits with CMD's status
#
# The env is printed as `export NAME=value` lines:
#   REDIS_URL           redis://127.0.0.1:PORT, the plain server (no password
#                       for the default user)
#   REDIS_ACL_USER / REDIS_ACL_PASSWORD   an ACL user on it with a password
#                       (throw-away test credentials of a throw-away server)
#   REDIS_SERVER_BIN    redis-server, for tests that start and kill their own
#   REDIS_CLUSTER_URL   redis://127.0.0.1:CPORT?cluster=1, a Redis Cluster of
#                       6 nodes (3 masters, 3 replicas) on CPORT..CPORT+5
#   REDIS_CLUSTER_PORTS the 6 nodes' ports, space-separated
#   REDIS_TLS_URL       rediss://USER:PASSWORD@127.0.0.1:TPORT?cacert=..&cert=..
#                       &key=.., a TLS-only server (also bound to 127.0.0.2,
#                       which its certificate does not name) that requires a
#                       client certificate, as the ACL user above
#   REDIS_TLS_CLUSTER_URL rediss://127.0.0.1:XPORT?cluster=1&cacert=..&cert=..
#                       &key=.., a TLS-only Redis Cluster of 3 masters on
#                       XPORT..XPORT+2 (TLS between the nodes too, client
#                       certificates required), as the default user
#   REDIS_TLS_DIR       its throw-away certificates (made here with openssl):
#                       ca.crt, server.crt/key (subjectAltName IP:127.0.0.1,
#                       DNS:localhost), client.crt/key, and wrong-ca.crt, a
#                       CA that signed none of them
#
# Settings (environment): REDIS_HOME (default /tmp/backends-redis),
# REDIS_PORT (6390), REDIS_CLUSTER_PORT (6391; the cluster's bus ports are
# 10000 above), REDIS_CLUSTER=0 (no cluster), REDIS_TLS_PORT (REDIS_PORT+7),
# REDIS_TLS=0 (no TLS server; needs openssl otherwise), REDIS_TLS_CLUSTER_PORT
# (REDIS_PORT+30), REDIS_TLS_CLUSTER=0 (none; also none without the cluster or
# TLS). Needs redis-server and redis-tools (scripts/install-deps.sh
# test); installs nothing. A server that cannot start fails the run.
set -euo pipefail

D=${REDIS_HOME:-/tmp/backends-redis}
PORT=${REDIS_PORT:-6390}
CPORT=${REDIS_CLUSTER_PORT:-6391}
CLUSTER=${REDIS_CLUSTER:-1}
CPORTS=$(seq "$CPORT" $((CPORT + 5)) | tr '\n' ' ' | sed 's/ $//')
TLS=${REDIS_TLS:-1}
TPORT=${REDIS_TLS_PORT:-$((PORT + 7))}
T="$D/tls"
TLS_CLUSTER=${REDIS_TLS_CLUSTER:-1}
[ "$CLUSTER" = 1 ] && [ "$TLS" = 1 ] || TLS_CLUSTER=0
XPORT=${REDIS_TLS_CLUSTER_PORT:-$((PORT + 30))}
XPORTS=$(seq "$XPORT" $((XPORT + 2)) | tr '\n' ' ' | sed 's/ $//')
ACL_USER=backends-test
ACL_PASSWORD=backends-test-password-not-a-real-one

die() {
  echo "redis-server.sh: $*" >&2
  exit 1
}

alive() {
  [ -f "$D/plain.pid" ] && kill -0 "$(cat "$D/plain.pid")" 2>/dev/null
}

answers() {
  [ "$(redis-cli -h 127.0.0.1 -p "$PORT" PING 2>/dev/null)" = PONG ]
}

stop_pid() {
  if [ -f "$1" ]; then
    local pid
    pid=$(cat "$1")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
    rm -f "$1"
  fi
}

# cluster_ok [redis-cli options...]: every node of $ports says it is ok.
cluster_ok() {
  local p
  for p in $ports; do
    # Read whole, not piped to grep -q: under pipefail a redis-cli still
    # writing when grep quits would fail the check.
    [[ "$(redis-cli "$@" -h 127.0.0.1 -p "$p" CLUSTER INFO 2>/dev/null)" == \
       *cluster_state:ok* ]] || return 1
  done
}

# make_cluster NAME REPLICAS [redis-cli options...]: the nodes of $ports,
# started by start_node (the caller's), joined by redis-cli --cluster create.
make_cluster() {
  local name=$1 replicas=$2 p
  shift 2
  for p in $ports; do
    stop_pid "$D/$name-$p.pid"
    rm -rf "$D/$name-$p"
    mkdir -p "$D/$name-$p"
    start_node "$p" --cluster-enabled yes --cluster-config-file nodes.conf \
      --cluster-node-timeout 1000 --repl-diskless-sync-delay 0 \
      --dir "$D/$name-$p" --daemonize yes --pidfile "$D/$name-$p.pid" \
      --logfile "$D/$name-$p.log" --save "" --appendonly no \
      --protected-mode yes >/dev/null ||
      die "$name node $p did not start (see $D/$name-$p.log)"
  done
  for p in $ports; do
    for _ in $(seq 100); do
      [ "$(redis-cli "$@" -h 127.0.0.1 -p "$p" PING 2>/dev/null)" = PONG ] && break
      sleep 0.05
    done
  done
  local nodes=()
  for p in $ports; do nodes+=("127.0.0.1:$p"); done
  redis-cli "$@" --cluster create "${nodes[@]}" --cluster-replicas "$replicas" \
    --cluster-yes >"$D/$name-create.log" 2>&1 ||
    die "redis-cli --cluster create failed (see $D/$name-create.log)"
  for _ in $(seq 200); do cluster_ok "$@" && break; sleep 0.05; done
  cluster_ok "$@" || die "the $name on $ports is not ok (see $D/$name-*.log)"
}

# Six nodes, fresh (no nodes.conf); a small cluster-node-timeout so that a
# failover takes a second or two, and replicas synced at once (no
# diskless-sync delay).
start_cluster() {
  local ports=$CPORTS
  cluster_ok && return 0
  start_node() { redis-server --bind 127.0.0.1 --port "$@"; }
  make_cluster cluster 1
}

tls_cli() {
  redis-cli --tls --cacert "$T/ca.crt" --cert "$T/client.crt" \
    --key "$T/client.key" -h 127.0.0.1 -p "$TPORT" "$@"
}

# A throw-away CA; the server's and a client's certificates signed by it;
# another CA that signed nothing of ours. EC keys: made in milliseconds.
make_certificates() {
  command -v openssl >/dev/null || die "openssl is not installed (scripts/install-deps.sh test)"
  rm -rf "$T"
  mkdir -p "$T"
  local ec=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
  local ca
  for ca in ca wrong-ca; do
    openssl req -x509 "${ec[@]}" -days 30 -subj "/CN=backends test $ca" \
      -keyout "$T/$ca.key" -out "$T/$ca.crt" 2>/dev/null ||
      die "openssl could not make $T/$ca.crt"
  done
  local who san
  for who in server client; do
    san="extendedKeyUsage=clientAuth"
    [ "$who" = server ] &&
      san=$'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth'
    openssl req -new "${ec[@]}" -subj "/CN=backends test $who" \
      -keyout "$T/$who.key" -out "$T/$who.csr" 2>/dev/null &&
      openssl x509 -req -in "$T/$who.csr" -CA "$T/ca.crt" -CAkey "$T/ca.key" \
        -CAcreateserial -days 30 -out "$T/$who.crt" \
        -extfile <(printf '%s\n' "$san") 2>/dev/null ||
      die "openssl could not make $T/$who.crt"
  done
  chmod 600 "$T"/*.key
}

tls_answers() {
  [ "$(tls_cli PING 2>/dev/null)" = PONG ]
}

tls_files() {
  echo --cacert "$T/ca.crt" --cert "$T/client.crt" --key "$T/client.key"
}

# Three masters speaking only TLS, to clients and between themselves (the
# cluster bus and replication); each shows the client certificate when it
# connects to another.
start_tls_cluster() {
  local ports=$XPORTS
  # shellcheck disable=SC2046
  cluster_ok --tls $(tls_files) && return 0
  start_node() {
    local p=$1
    shift
    redis-server --bind 127.0.0.1 --port 0 --tls-port "$p" \
      --tls-cluster yes --tls-replication yes \
      --tls-cert-file "$T/server.crt" --tls-key-file "$T/server.key" \
      --tls-client-cert-file "$T/client.crt" \
      --tls-client-key-file "$T/client.key" \
      --tls-ca-cert-file "$T/ca.crt" --tls-auth-clients yes "$@"
  }
  # shellcheck disable=SC2046
  make_cluster tls-cluster 0 --tls $(tls_files)
}

# TLS only (no plain port), a client certificate required.
start_tls() {
  if [ -f "$D/tls.pid" ] && kill -0 "$(cat "$D/tls.pid")" 2>/dev/null &&
    tls_answers; then
    return 0
  fi
  stop_pid "$D/tls.pid"
  make_certificates
  redis-server --bind 127.0.0.1 127.0.0.2 --port 0 --tls-port "$TPORT" \
    --tls-cert-file "$T/server.crt" --tls-key-file "$T/server.key" \
    --tls-ca-cert-file "$T/ca.crt" --tls-auth-clients yes \
    --save "" --appendonly no --dir "$D" --daemonize yes \
    --pidfile "$D/tls.pid" --logfile "$D/tls.log" --protected-mode yes \
    >/dev/null || die "the TLS redis-server did not start (see $D/tls.log)"
  for _ in $(seq 100); do tls_answers && break; sleep 0.05; done
  tls_answers || die "the TLS redis-server on 127.0.0.1:$TPORT does not answer (see $D/tls.log)"
  tls_cli ACL SETUSER "$ACL_USER" reset on ">$ACL_PASSWORD" '~*' '&*' +@all \
    >/dev/null
}

stop_server() {
  stop_pid "$D/plain.pid"
  stop_pid "$D/tls.pid"
  local p
  for p in $CPORTS; do stop_pid "$D/cluster-$p.pid"; done
  for p in $XPORTS; do stop_pid "$D/tls-cluster-$p.pid"; done
  if [ "${REDIS_PURGE:-0}" = 1 ]; then rm -rf "$D"; fi
}

start_server() {
  command -v redis-server >/dev/null || die "redis-server is not installed (scripts/install-deps.sh test)"
  mkdir -p "$D"
  if ! alive; then
    redis-server --bind 127.0.0.1 --port "$PORT" --save "" --appendonly no \
      --dir "$D" --daemonize yes --pidfile "$D/plain.pid" \
      --logfile "$D/plain.log" --protected-mode yes >/dev/null ||
      die "redis-server did not start (see $D/plain.log)"
  fi
  for _ in $(seq 100); do answers && break; sleep 0.05; done
  answers || die "redis-server on 127.0.0.1:$PORT does not answer (see $D/plain.log)"
  if [ "$CLUSTER" = 1 ]; then start_cluster; fi
  if [ "$TLS" = 1 ]; then start_tls; fi
  if [ "$TLS_CLUSTER" = 1 ]; then start_tls_cluster; fi
  redis-cli -h 127.0.0.1 -p "$PORT" ACL SETUSER "$ACL_USER" reset on \
    ">$ACL_PASSWORD" '~*' '&*' +@all >/dev/null
  cat >"$D/env" <<ENV
export REDIS_URL=redis://127.0.0.1:$PORT
export REDIS_ACL_USER=$ACL_USER
export REDIS_ACL_PASSWORD=$ACL_PASSWORD
export REDIS_SERVER_BIN=$(command -v redis-server)
ENV
  if [ "$CLUSTER" = 1 ]; then
    cat >>"$D/env" <<ENV
export REDIS_CLUSTER_URL='redis://127.0.0.1:$CPORT?cluster=1'
export REDIS_CLUSTER_PORTS='$CPORTS'
ENV
  fi
  if [ "$TLS" = 1 ]; then
    cat >>"$D/env" <<ENV
export REDIS_TLS_URL='rediss://$ACL_USER:$ACL_PASSWORD@127.0.0.1:$TPORT?cacert=$T/ca.crt&cert=$T/client.crt&key=$T/client.key'
export REDIS_TLS_DIR='$T'
ENV
  fi
  if [ "$TLS_CLUSTER" = 1 ]; then
    cat >>"$D/env" <<ENV
export REDIS_TLS_CLUSTER_URL='rediss://127.0.0.1:$XPORT?cluster=1&cacert=$T/ca.crt&cert=$T/client.crt&key=$T/client.key'
ENV
  fi
  cat "$D/env"
}

case "${1:-}" in
  start) start_server ;;
  env) cat "$D/env" ;;
  stop) stop_server ;;
  run)
    shift
    [ $# -gt 0 ] || die "usage: $0 run COMMAND [ARGS...]"
    started=1
    if alive && answers; then started=0; fi
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
