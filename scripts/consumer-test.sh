#!/usr/bin/env bash
# The consumer-install test (CI, .ci/run): pack the tarball (prepack builds the prebuilt addons),
# install it into a scratch project offline (the tarball plus the npm cache; scripts/consumer-lock.mjs), type-check the README's
# library example as written under `strict` without `skipLibCheck`, run it, and require that the
# native backend did the hashing from the prebuilt binary (no compiler, no install script, no webgpu).
# MODELSEAL_TARBALL=FILE reuses a tarball packed earlier.
set -euo pipefail
cd "$(dirname "$0")/.."
# A consumer's install is not strict: .ci/run exports MODELSEAL_NATIVE_STRICT=1 for its own `npm ci`
# (which must prove the source build), and that would make the consumer's install demand cmake-js too.
unset MODELSEAL_NATIVE_STRICT
REPO=$PWD
WORK=$(mktemp -d /tmp/modelseal-consumer.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
fail() { echo "consumer test FAILED: $*" >&2; exit 1; }

TARBALL=${MODELSEAL_TARBALL:-}
if [ -z "$TARBALL" ]; then
  npm pack --silent --pack-destination "$WORK" >/dev/null
  TARBALL=$(ls "$WORK"/modelseal-*.tgz)
fi
tar tzf "$TARBALL" > "$WORK/contents"
grep -qx 'package/prebuilds/linux-x64/modelseal.napi.glibc.node' "$WORK/contents" || fail "the tarball has no linux-x64 prebuilt addon"
grep -qx 'package/LICENSE' "$WORK/contents" || fail "the tarball has no LICENSE"
# the CLI ships bundled (scripts/bundle-cli.mjs, run by prepare): bin/modelseal.js runs it, doctor below
grep -qx 'package/dist/cli-bundle/hash.cjs' "$WORK/contents" || fail "the tarball has no CLI bundle (dist/cli-bundle/)"
grep -qx 'package/dist/cli-bundle/_all.cjs' "$WORK/contents" || fail "the tarball has no CLI bundle for help and unknown commands (dist/cli-bundle/_all.cjs)"
grep -q '^package/dist/cli-bundle/hash\.cjs\.[0-9a-f]*\.v8cache$' "$WORK/contents" || fail "the tarball has no code cache for the hash bundle"
grep -qx 'package/bin/package.json' "$WORK/contents" || fail "the tarball has no bin/package.json (bin/modelseal.js is CommonJS)"
echo "tarball: $(du -k "$TARBALL" | cut -f1) KiB, prebuilt addons: $(grep -c '^package/prebuilds/.*\.node$' "$WORK/contents") ($(grep '^package/prebuilds/.*\.node$' "$WORK/contents" | cut -d/ -f3 | tr '\n' ' '))"

C=$WORK/consumer
mkdir -p "$C/llama-3-8b"
cp "$TARBALL" "$C/"
node scripts/consumer-lock.mjs "$REPO" "$C/$(basename "$TARBALL")" "$C"
cd "$C"
cat > tsconfig.json <<'JSON'
{
  "compilerOptions": {
    "target": "ES2022", "module": "NodeNext", "moduleResolution": "NodeNext",
    "strict": true, "skipLibCheck": false, "types": ["node"], "outDir": "out"
  },
  "include": ["*.ts"]
}
JSON
# The README's library example, verbatim: the first ```ts block under "## Library".
awk '/^## Library/{s=1} s&&/^```ts/{p=1;next} p&&/^```/{exit} p' "$REPO/README.md" > example.ts
grep -q "from 'modelseal'" example.ts || fail "could not extract the README's library example"
# Every documented subpath import type-checks too (docs/gpu.md).
cat > subpaths.ts <<'TS'
import { createWebGpuBackend, probeWebGpu } from 'modelseal/webgpu';
import { hashGpuBuffer } from 'modelseal';
export const documented = [createWebGpuBackend, probeWebGpu, hashGpuBuffer];
TS
# A small model where the example looks for one: 4 files, 42 MiB, 5 shards of at most 16 MiB.
for i in 1 2 3; do head -c $((i * 7 * 1048576 - i)) /dev/urandom > "llama-3-8b/model-0000$i.safetensors"; done
echo '{"architectures":["LlamaForCausalLM"]}' > llama-3-8b/config.json

npm ci --offline --no-audit --no-fund --loglevel=error || fail "offline install from the tarball and the npm cache"

[ ! -e node_modules/webgpu ] || fail "webgpu was installed, but it is an optional peer dependency"
[ ! -e node_modules/cmake-js ] || fail "cmake-js was installed into the consumer"
[ ! -e node_modules/modelseal/build/Release ] || fail "the addon was built from source in the consumer (expected the prebuilt binary)"
BYTES=$(du -sb node_modules | cut -f1)
TOOLS=$(du -scb node_modules/typescript node_modules/@types/node | tail -1 | cut -f1)
echo "consumer install: $(( (BYTES - TOOLS) / 1048576 )) MiB without the test's typescript and @types/node"

npx tsc -p tsconfig.json || fail "the README example does not type-check under strict without skipLibCheck"
OUT=$(node out/example.js 2>/dev/null) || fail "the README example failed to run"
echo "README example: $OUT"
echo "$OUT" | grep -Eq '^[0-9a-f]{64} 5 [0-9.]+ GB/s via native$' || fail "expected a root digest, 5 resources and 'via native': $OUT"

DOCTOR=$(npx --no-install modelseal doctor --json 2>/dev/null)
node -e '
  const d = JSON.parse(process.argv[1]);
  if (d.native.ok !== true || d.native.origin !== "prebuilt") { console.error("doctor:", JSON.stringify(d.native)); process.exit(1); }
  const gpu = d.backends.find((b) => b.name === "webgpu");
  if (gpu.ok || !/optional and not installed/.test(gpu.reason)) { console.error("webgpu:", JSON.stringify(gpu)); process.exit(1); }
  console.log("doctor: native " + d.native.origin + " (" + d.native.why + "); webgpu: " + gpu.reason);
' "$DOCTOR" || fail "doctor does not report the prebuilt native addon and the optional webgpu"
echo "consumer test passed"
