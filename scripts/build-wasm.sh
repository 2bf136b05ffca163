#!/bin/sh
# Builds wasm/modelseal.wasm from wasm/src/*.c (SHA-256 and BLAKE3 with SIMD128).
#
# Reproducible: fixed source list and flags, no libc, no debug info, no timestamps; the same
# toolchain gives a byte-identical file (scripts/check-wasm.sh verifies the committed one).
# Toolchain: Debian 12 `apt-get install -y clang lld` (clang 14.0.6, wasm-ld 14).
#
# Usage: scripts/build-wasm.sh [OUTPUT]   (default: wasm/modelseal.wasm)
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${1:-"$ROOT/wasm/modelseal.wasm"}
CC=${CC:-clang}
EXPECTED_CLANG_VERSION="14.0.6"

if ! command -v "$CC" >/dev/null 2>&1; then
  echo "build-wasm: $CC not found; install the toolchain with: apt-get install -y clang lld" >&2
  exit 2
fi
if ! command -v wasm-ld >/dev/null 2>&1 && ! command -v wasm-ld-14 >/dev/null 2>&1; then
  echo "build-wasm: wasm-ld not found; install it with: apt-get install -y lld" >&2
  exit 2
fi
VERSION=$("$CC" --version | head -n 1)
case "$VERSION" in
  *"clang version $EXPECTED_CLANG_VERSION"*) ;;
  *) echo "build-wasm: warning: expected clang $EXPECTED_CLANG_VERSION (Debian 12), found: $VERSION;" \
          "the output will not be byte-identical to the committed module" >&2 ;;
esac

# Sources in a fixed order (no globbing: the link order changes the output).
SOURCES="io.c sha256.c blake3.c"

# Memory: 64 KiB stack first (an overflow traps instead of corrupting data), then data and bss
# (4 MiB IO buffer + 192 KiB CV scratch + states); 6 MiB fixed, never grown, so JS views stay valid.
MEMORY_BYTES=6291456

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT INT TERM

cd "$ROOT/wasm/src"
# shellcheck disable=SC2086
"$CC" --target=wasm32 -O3 -msimd128 -mbulk-memory -nostdlib -ffreestanding \
  -std=c11 -Wall -Wextra -Werror \
  -fno-ident -ffile-prefix-map="$ROOT"=. \
  -Wl,--no-entry -Wl,--strip-all -Wl,--stack-first -Wl,-z,stack-size=65536 \
  -Wl,--initial-memory=$MEMORY_BYTES -Wl,--max-memory=$MEMORY_BYTES \
  -o "$TMP/modelseal.wasm" $SOURCES

mkdir -p "$(dirname "$OUT")"
cp "$TMP/modelseal.wasm" "$OUT"
echo "build-wasm: wrote $OUT ($(wc -c <"$OUT") bytes, $VERSION)"
