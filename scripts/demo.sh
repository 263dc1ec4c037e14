#!/usr/bin/env bash
# A short tour of the `backends` tool on a local folder: put, get, ls, url,
# cp, rm, JSON and text formats, a cache, and what bad input does. Each
# command is printed after "$ ", then what it wrote (stdout and stderr) and
# its exit code when not 0.
#
#   bash scripts/demo.sh [PATH/TO/backends]
#
# Without an argument it uses build-release/tools/backends,
# build/tools/backends or `backends` on PATH. It works in a fresh scratch
# folder (removed at the end), so it never touches files of yours.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
bin=${1:-}
if [ -z "$bin" ]; then
  for candidate in "$repo/build-release/tools/backends" \
                   "$repo/build/tools/backends"; do
    if [ -x "$candidate" ]; then bin=$candidate; break; fi
  done
fi
if [ -z "$bin" ]; then bin=$(command -v backends || true); fi
if [ -z "$bin" ] || [ ! -x "$bin" ]; then
  echo "demo.sh: no backends binary; build it first or pass its path" >&2
  exit 2
fi
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")

work=$(mktemp -d "${TMPDIR:-/tmp}/backends-demo.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work"

# The commands below say `backends`; this runs the binary under test.
backends() { "$bin" "$@"; }

# demo 'COMMAND': prints it, runs it, prints its output (a newline added
# if the output did not end with one) and a non-zero exit code.
demo() {
  printf '$ %s\n' "$1"
  local status=0
  eval "$1" >"$work/.output" 2>&1 || status=$?
  cat "$work/.output"
  if [ -s "$work/.output" ] && [ "$(tail -c1 "$work/.output" | od -An -c | tr -d ' ')" != '\n' ]; then
    echo
  fi
  if [ "$status" -ne 0 ]; then echo "(exit $status)"; fi
}

echo "# in a scratch folder: $work"
demo "backends --version"
demo "backends put file://./demo-store greeting 'hello, world'"
demo "backends get file://./demo-store greeting"
demo "echo '{\"name\": \"Ada\", \"langs\": [\"en\", \"fr\"], \"born\": 1815}' | backends put 'file://./demo-store?format=json' users/ada"
demo "cat demo-store/users/ada"
demo "backends put 'file://./demo-store?format=text' 'notes/café ☕' 'unicode keys and text'"
demo "backends ls file://./demo-store"
demo "backends ls file://./demo-store users/"
demo "backends url file://./demo-store users/ada"
demo "backends put 'file://./demo-store?format=json' users/bob '{not json'"
demo "backends put file://./demo-store ../outside 'escape the folder?'"
demo "backends get file://./demo-store users/nobody"
demo "backends cp file://./demo-store file://./backup --jobs 4"
demo "backends cp --update file://./demo-store file://./backup"
demo "backends rm file://./demo-store greeting"
demo "backends ls file://./demo-store"
demo "backends put 'file://./cache?cache=json&timeout=0' token '\"expires at once\"'"
demo "backends cache prune 'file://./cache?cache=json'"
