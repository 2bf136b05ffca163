#!/bin/sh
# Fails if wasm/modelseal.wasm is not what scripts/build-wasm.sh builds from wasm/src/ (CI runs it
# with the Debian 12 toolchain: apt-get install -y clang lld).
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT INT TERM

"$ROOT/scripts/build-wasm.sh" "$TMP/modelseal.wasm"
if cmp -s "$TMP/modelseal.wasm" "$ROOT/wasm/modelseal.wasm"; then
  echo "check-wasm: wasm/modelseal.wasm matches a rebuild from wasm/src"
else
  echo "check-wasm: wasm/modelseal.wasm differs from a rebuild of wasm/src;" \
       "run scripts/build-wasm.sh with clang 14.0.6 (Debian 12) and commit the result" >&2
  exit 1
fi
