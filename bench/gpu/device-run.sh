#!/bin/bash
# The one prepared call on a lent NVIDIA machine (see docs/gpu.md): unpacks the carried Vulkan
# loader, Node and the webgpu package, checks the GPU is visible, then runs bench/gpu/run.mjs with
# results under $OUT. Carry: .gl (loader .debs), .gpu-carry (runtime.tar.xz), dist (compiled TS).
set -u
cd "$(dirname "$0")/../.."
for f in .gl/*.deb; do dpkg -x "$f" /; done
ldconfig
mkdir -p /tmp/rt
tar -xJf .gpu-carry/runtime.tar.xz -C /tmp/rt || python3 -c "import tarfile; tarfile.open('.gpu-carry/runtime.tar.xz').extractall('/tmp/rt')"
ln -sfn /tmp/rt/node_modules node_modules
export PATH=/tmp/rt/bin:$PATH XDG_RUNTIME_DIR=/tmp
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,pcie.link.gen.current,pcie.link.width.current --format=csv | tee "$OUT/nvidia-smi.csv"
ldconfig -p | grep -c libvulkan
ICD=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
[ -f "$ICD" ] && export VK_DRIVER_FILES=$ICD __EGL_VENDOR_LIBRARY_FILENAMES=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json
echo "VK_DRIVER_FILES=${VK_DRIVER_FILES:-unset}"
node -e "import('./dist/backends/webgpu/index.js').then(async m => { const p = await m.probeWebGpu(); console.log(JSON.stringify(p)); process.exit(p.ok ? 0 : 3); })" || exit 3
# The main bench (set MODELSEAL_WEBGPU_SHA_BINDINGS=1 on hardware where the multi-binding kernel has
# never run); then that kernel alone against one binding, in its own process under a timeout.
UV_THREADPOOL_SIZE=16 BENCH_OUT="$OUT" timeout "${BENCH_TIMEOUT:-330}" node bench/gpu/run.mjs "$@" 2>&1 | grep -v '^Warning: maxDynamic' | tee "$OUT/bench.log"
BENCH_OUT="$OUT" timeout "${MULTI_TIMEOUT:-90}" node bench/gpu/multi-binding.mjs 2>&1 | grep -v '^Warning: maxDynamic' | tee "$OUT/multi-binding.log"
