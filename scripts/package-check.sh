#!/usr/bin/env bash
# What a C++ user of the installed library meets, checked (CI runs it):
#   1. every public header compiles on its own (C++20 and C++23, -Wall
#      -Wextra -Wpedantic -Werror);
#   2. the shared library (-DBUILD_SHARED_LIBS=ON, Release) exports our API
#      only: no curl, OpenSSL, simdjson, pugixml, SQLite or libdeflate
#      symbol, nothing of our implementation namespaces;
#   3. installed into a scratch folder, a one-file consumer builds with
#      pkg-config (shared, and --static against the static build) and with
#      CMake's find_package, and runs;
#   4. `cpack -G DEB` makes backends_<version>_amd64.deb, apt-get installs
#      it, a consumer builds and runs against /usr, `backends --version`
#      prints the version, `man -w backends` finds the page; the package is
#      purged again (also when a check fails), leaving no dpkg record;
#   5. the API reference (doxygen, docs/Doxyfile.in) builds without a
#      warning: every public class and function documented.
#
#   scripts/package-check.sh    builds in build-package/ (shared) and uses
#                               STATIC_BUILD (default build/, configured
#                               if missing) for the static library
#   scripts/package-check.sh --build-only
#                               only the build-package/ build (CI builds it
#                               ahead, beside the tests)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh package

build=${BUILD:-build-package}
static_build=${STATIC_BUILD:-build}
build_shared() {
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DBUILD_SHARED_LIBS=ON -DBACKENDS_BUILD_TESTS=OFF \
    -DBACKENDS_BUILD_PYTHON=OFF -DCMAKE_INSTALL_PREFIX=/usr >/dev/null
  cmake --build "$build" -j"$(nproc)"
}
if [ "${1:-}" = --build-only ]; then build_shared; exit 0; fi
scratch=$(mktemp -d)
installed_deb=0
cleanup() {
  if [ "$installed_deb" = 1 ]; then
    apt-get purge -y -qq backends >/dev/null 2>&1 || true
  fi
  rm -rf "$scratch"
}
trap cleanup EXIT
fail() { echo "package-check: $*" >&2; exit 1; }
# prints PATTERN COMMAND...: COMMAND succeeds and its output holds PATTERN.
# Not `COMMAND | grep -q`: grep stops reading at the first match, a command
# that writes on gets SIGPIPE, and pipefail fails the check (ldd, which
# writes a line at a time: 34 of 300 runs on a loaded machine).
prints() {
  local out
  out=$("${@:2}") || return 1
  grep -q -- "$1" <<<"$out"
}
step() { echo "--- $*"; }

version=$(sed -n 's/^project(backends VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)
[ -n "$version" ] || fail "no project version in CMakeLists.txt"

step "1. each public header on its own"
defs=(-DBACKENDS_WITH_S3=1 -DBACKENDS_WITH_SQLITE=1 -DBACKENDS_WITH_REDIS=1)
for std in c++20 c++23; do
  for header in include/backends/*.h; do
    echo "#include \"backends/$(basename "$header")\"" |
      g++ -std=$std -fsyntax-only -Wall -Wextra -Wpedantic -Werror \
        "${defs[@]}" -Iinclude -x c++ - ||
      fail "$header does not compile on its own in $std"
  done
done
echo "$(ls include/backends/*.h | wc -l) headers, C++20 and C++23: ok"

step "2. the shared library and its exported symbols"
build_shared
lib=$(readlink -f "$build/libbackends.so")
soname=$(objdump -p "$lib" | awk '/SONAME/ { print $2 }')
[ "$soname" = "libbackends.so.${version%%.*}" ] ||
  fail "soname is '$soname', not libbackends.so.${version%%.*}"
nm -D --defined-only "$lib" | awk '$2 != "A" { print $3 }' >"$scratch/exported"
# Ours: namespace backends (mangled _ZN8backends..., its const members,
# vtables, type infos, thunks, guards) minus the implementation namespaces.
grep -Ev '^_Z(N|NK|TVN|TIN|TSN|TTN|GVN|Thn[0-9]+_N|Thn[0-9]+_NK|Tv[0-9n_]+N|Tv[0-9n_]+NK)8backends' \
  "$scratch/exported" >"$scratch/foreign" || true
if [ -s "$scratch/foreign" ]; then
  head -20 "$scratch/foreign" | c++filt >&2
  fail "$(wc -l <"$scratch/foreign") exported symbols outside namespace backends (above: the first 20)"
fi
if grep -E '8backends(2s3|4file|6sqlite|5redis|14cache_internal)' \
     "$scratch/exported" | head -5 | c++filt >&2; then
  fail "implementation symbols exported (above)"
fi
for dep in curl_ SSL_ EVP_ simdjson pugi sqlite3_ libdeflate_ deflate \
           redis[A-Z]; do
  if grep -q "^$dep\|N[0-9]*$dep" "$scratch/exported"; then
    fail "a $dep symbol is exported"
  fi
done
echo "$(wc -l <"$scratch/exported") symbols exported, all in namespace backends: ok"

step "3. consumers of the installed tree: pkg-config (shared, static), CMake"
DESTDIR="$scratch/stage" cmake --install "$build" >/dev/null
prefix="$scratch/stage/usr"
pcdir=$(dirname "$(find "$prefix" -name backends.pc)")
consumer=tests/core/consumer/main.cc
PKG_CONFIG_PATH=$pcdir g++ -std=c++20 -o "$scratch/consumer-shared" "$consumer" \
  $(PKG_CONFIG_PATH=$pcdir pkg-config --define-variable=prefix="$prefix" \
      --cflags --libs backends) -Wl,-rpath,"$prefix/lib/$(gcc -print-multiarch)"
prints "consumer ok" "$scratch/consumer-shared" "$scratch/store-shared" ||
  fail "the pkg-config consumer (shared) failed"
prints "$prefix.*libbackends.so" ldd "$scratch/consumer-shared" ||
  fail "the shared consumer did not load the installed libbackends.so"

# The static library: the test run's build (up to date in CI), or one made
# here.
if [ ! -f "$static_build/CMakeCache.txt" ]; then
  cmake -S . -B "$static_build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DBACKENDS_BUILD_TESTS=OFF -DBACKENDS_BUILD_PYTHON=OFF >/dev/null
fi
cmake --build "$static_build" -j"$(nproc)"
cmake --install "$static_build" --prefix "$scratch/static" >/dev/null
spcdir=$(dirname "$(find "$scratch/static" -name backends.pc)")
g++ -std=c++20 -o "$scratch/consumer-static" "$consumer" \
  $(PKG_CONFIG_PATH=$spcdir pkg-config --define-variable=prefix="$scratch/static" \
      --static --cflags --libs backends)
prints "consumer ok" "$scratch/consumer-static" "$scratch/store-static" ||
  fail "the pkg-config consumer (--static) failed"
! prints libbackends ldd "$scratch/consumer-static" ||
  fail "the --static consumer links libbackends.so"

cmake -S tests/core/consumer -B "$scratch/cmake-consumer" -G Ninja \
  -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build "$scratch/cmake-consumer" >/dev/null
prints "consumer ok" env LD_LIBRARY_PATH="$prefix/lib/$(gcc -print-multiarch)" \
  "$scratch/cmake-consumer/consumer" "$scratch/store-cmake" ||
  fail "the CMake consumer failed"
echo "pkg-config (shared and --static) and find_package consumers: ok"

step "4. the Debian package"
(cd "$build" && cpack -G DEB >/dev/null)
deb="$build/backends_${version}_amd64.deb"
[ -f "$deb" ] || fail "cpack made no $deb"
dpkg-deb -f "$deb" Depends
dpkg-deb -c "$deb" >"$scratch/deb-contents"
for path in usr/bin/backends usr/include/backends/backend.h \
            "usr/lib/$(gcc -print-multiarch)/pkgconfig/backends.pc" \
            "usr/lib/$(gcc -print-multiarch)/cmake/backends/backendsConfig.cmake" \
            usr/share/man/man1/backends.1; do
  grep -q " \./$path" "$scratch/deb-contents" || fail "$deb lacks /$path"
done
if prints "ok installed" dpkg-query -W -f='${Status}' backends 2>/dev/null; then
  fail "a backends package is installed already: remove it first"
fi
installed_deb=1
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "./$deb" >/dev/null
[ "$(backends --version)" = "backends $version" ] ||
  fail "backends --version printed '$(backends --version)'"
man -w backends >/dev/null || fail "man -w backends found no page"
g++ -std=c++20 -o "$scratch/consumer-deb" "$consumer" \
  $(pkg-config --cflags --libs backends)
prints "consumer ok" "$scratch/consumer-deb" "$scratch/store-deb" ||
  fail "the consumer of the installed package failed"
cmake -S tests/core/consumer -B "$scratch/deb-consumer" -G Ninja >/dev/null
cmake --build "$scratch/deb-consumer" >/dev/null
prints "consumer ok" "$scratch/deb-consumer/consumer" "$scratch/store-deb2" ||
  fail "the CMake consumer of the installed package failed"
apt-get purge -y -qq backends >/dev/null
installed_deb=0
[ ! -e /usr/bin/backends ] || fail "/usr/bin/backends is left after removal"
# Purged, not only removed: no "rc" (config-files) record stays behind.
left=$(dpkg-query -W -f='${Status}' backends 2>/dev/null || true)
case "$left" in
  "" | *not-installed) ;;
  *) fail "dpkg still records backends after the purge: '$left'" ;;
esac
echo "$deb: installs, builds a consumer (pkg-config and CMake), --version, man page, purges: ok"

step "5. the API reference: doxygen without a warning"
if ! cmake --build "$build" --target docs >"$scratch/doxygen.log" 2>&1 ||
   grep -q ': \(warning\|error\):' "$scratch/doxygen.log"; then
  cat "$scratch/doxygen.log" >&2
  fail "doxygen: $(grep -c ': \(warning\|error\):' "$scratch/doxygen.log") warnings (above; a public declaration without its /// contract is one)"
fi
[ -f "$build/docs/html/index.html" ] || fail "no $build/docs/html/index.html"
echo "$(ls "$build"/docs/html/*.html | wc -l) pages in $build/docs/html, 0 warnings: ok"
