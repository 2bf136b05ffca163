#!/usr/bin/env bash
# Cost of `sign --merkle` over a plain `sign`, per hash (issue 14: one pass over the bytes).
# Paired whole-process runs (hyperfine) on a generated model of FILES files of SIZE bytes, page
# cache warm (hyperfine warm-up), so the figures are CPU-bound. With BEFORE=/path/to/an/older/checkout
# (built: dist/ and build/Release), its `sign --merkle` (the two-pass companion) is measured too.
#
#   flock -x -w 900 /work/notes/bench.lock bench/sign-merkle.sh [SIZE_MIB=256] [FILES=4] [HASHES="sha256 blake3"] [RUNS=5]
#
# Writes bench/results/sign-merkle-<hash>.json (hyperfine's export) and prints the medians.
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE_MIB=${1:-256}
FILES=${2:-4}
HASHES=${3:-"sha256 blake3"}
RUNS=${4:-5}
DIR=$(mktemp -d /tmp/modelseal-sign-merkle.XXXXXX)
trap 'rm -rf "$DIR"' EXIT
mkdir -p "$DIR/model" bench/results
for i in $(seq 1 "$FILES"); do
  head -c $((SIZE_MIB * 1048576)) /dev/urandom > "$DIR/model/part-$i.bin"
done
openssl ecparam -name prime256v1 -genkey -noout -out "$DIR/key.pem" 2>/dev/null
echo "# $(lscpu | grep 'Model name' | sed 's/  */ /g'); $(nproc) CPUs; load $(cut -d' ' -f1-3 /proc/loadavg); model ${FILES} x ${SIZE_MIB} MiB"
for H in $HASHES; do
  SIGN="node bin/modelseal.js sign $DIR/model --key $DIR/key.pem --hash $H -o $DIR/m.sig --force -q --no-progress"
  ARGS=(-n "sign --hash $H" "$SIGN" -n "sign --hash $H --merkle (one pass)" "$SIGN --merkle")
  if [[ -n "${BEFORE:-}" ]]; then
    ARGS+=(-n "sign --hash $H --merkle (two passes, $BEFORE)" "node $BEFORE/bin/modelseal.js sign $DIR/model --key $DIR/key.pem --hash $H -o $DIR/b.sig --force -q --no-progress --merkle")
  fi
  hyperfine --warmup 1 --runs "$RUNS" --export-json "bench/results/sign-merkle-$H.json" "${ARGS[@]}" 2>&1 | grep -v '^ *$'
  node -e '
    const r = require(process.argv[1]).results;
    for (const x of r) console.log(`${x.command}: median ${x.median.toFixed(3)} s, user+sys ${(x.user + x.system).toFixed(3)} s, +${((x.median / r[0].median - 1) * 100).toFixed(0)} % (CPU +${(((x.user + x.system) / (r[0].user + r[0].system) - 1) * 100).toFixed(0)} %)`);
  ' "$PWD/bench/results/sign-merkle-$H.json"
done
echo "# load after: $(cut -d' ' -f1-3 /proc/loadavg)"
