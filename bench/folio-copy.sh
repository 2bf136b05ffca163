#!/bin/sh
# Copies a model directory with 8 MiB writes, so that its page cache is held in large folios
# (ext4, Linux >= 6.16), as a model downloaded in large blocks or read back from disk is. The data
# sets under /work/data were written through a pipe and sit in 4 KiB folios: mapping those costs
# ~0.1-0.13 s of system time per GiB, mapping large folios ~0.01 s (bench/mapping-cost.c).
# Same bytes, same digests; used to show what the page-cache state does to files/sha256:
#   sh bench/folio-copy.sh /work/data/m2g-16f /work/tmp/m2g-16f-lf
#   flock -x -w 900 /work/notes/bench.lock node bench/delivered-sha256.mjs --runs 5 --case files-2g-16f --model-16f /work/tmp/m2g-16f-lf
# Delete the copy afterwards: it holds as much page cache as the model.
set -eu
src=$1
dst=$2
mkdir -p "$dst"
for f in "$src"/*; do
  [ -f "$f" ] && dd if="$f" of="$dst/$(basename "$f")" bs=8M status=none
done
sync
