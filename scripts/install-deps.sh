#!/usr/bin/env bash
# Installs, from Debian's packages only, what building and testing need.
#   scripts/install-deps.sh          build the library, tool and tests
#   scripts/install-deps.sh test     + the real S3 and Redis servers and clients the tests use
#   scripts/install-deps.sh python   build + what the Python package's install needs
#   scripts/install-deps.sh bench    + the peers and baselines the benchmarks run
#   scripts/install-deps.sh package  build + what scripts/package-check.sh uses
# Runs as root (apt-get); does nothing that is already installed.
set -euo pipefail

build=(build-essential cmake ninja-build g++ pkg-config git lld
  libgtest-dev libgmock-dev libbenchmark-dev
  nlohmann-json3-dev libsimdjson-dev libcli11-dev
  libcurl4-openssl-dev libssl-dev libpugixml-dev libdeflate-dev zlib1g-dev
  libsqlite3-dev libhiredis-dev
  python3 curl ca-certificates)
python=(pybind11-dev python3-pybind11 python3-dev python3-venv python3-pip
  python3-setuptools python3-wheel)
test=("${python[@]}" python3-pytest python3-boto3 mypy
  ceph-mon ceph-osd radosgw ceph-common awscli python3-diskcache
  clang libclang-rt-14-dev util-linux procps redis-server redis-tools
  faketime openssl)
bench=(nginx-light wrk rclone rapidjson-dev libboost-json1.81-dev
  python3-diskcache linux-perf valgrind libjs-jquery libjs-bootstrap4
  xfsprogs e2fsprogs python3-boto3 python3-redis time)

package=(dpkg-dev help2man man-db binutils doxygen)

want=("${build[@]}")
case "${1:-}" in
  "") ;;
  python) want+=("${python[@]}") ;;
  test) want+=("${test[@]}") ;;
  bench) want+=("${test[@]}" "${bench[@]}") ;;
  package) want+=("${package[@]}") ;;
  *) echo "usage: $0 [python|test|bench|package]" >&2; exit 2 ;;
esac

missing=()
for p in "${want[@]}"; do
  [[ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" == *"ok installed" ]] ||
    missing+=("$p")
done
if ((${#missing[@]})); then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
