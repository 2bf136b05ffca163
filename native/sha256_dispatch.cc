// The one place that maps CPU features to SHA-256 kernels, ordered best first.
#include <cstring>

#include "cpu_features.h"
#include "sha256_kernels.h"

namespace modelseal {
namespace sha256 {

namespace {

// Order = preference. On SHA-NI CPUs the 2-way interleave is the default: it nearly doubles one
// stream (perf-anchors §2.3) and, unlike 4-way, keeps its gain when both cores hash at once;
// 4-way is kept as a forced option (it wins on one idle core). Measured again in bench/native-sha256.mjs.
const Kernel kAll[] = {
#if defined(MODELSEAL_X86)
    {"shani-x2", 2, {2, 1, 0}, {compress_shani_x2, compress_shani_x1, nullptr}, false},
    {"shani-x4", 3, {4, 2, 1}, {compress_shani_x4, compress_shani_x2, compress_shani_x1}, false},
    {"shani", 1, {1, 0, 0}, {compress_shani_x1, nullptr, nullptr}, false},
    {"avx2-x8", 2, {8, 1, 0}, {compress_avx2_x8, compress_scalar, nullptr}, true},
#endif
    {"scalar", 1, {1, 0, 0}, {compress_scalar, nullptr, nullptr}, false},
};

bool runnable(const Kernel& k) {
  const CpuFeatures& f = cpu_features();
  if (std::strncmp(k.name, "shani", 5) == 0) return f.sha_ni && f.sse41 && f.ssse3;
  if (std::strcmp(k.name, "avx2-x8") == 0) return f.avx2;
  return true;
}

}  // namespace

int available_kernels(const Kernel** out, int max) {
  int n = 0;
  for (const Kernel& k : kAll)
    if (runnable(k) && n < max) out[n++] = &k;
  return n;
}

const Kernel* find_kernel(const char* name, bool* is_runnable) {
  for (const Kernel& k : kAll) {
    if (std::strcmp(k.name, name) == 0) {
      *is_runnable = runnable(k);
      return &k;
    }
  }
  *is_runnable = false;
  return nullptr;
}

const Kernel& default_kernel() {
  static const Kernel* best = [] {
    const Kernel* list[8];
    available_kernels(list, 8);  // scalar is always runnable, so there is at least one
    return list[0];
  }();
  return *best;
}

}  // namespace sha256
}  // namespace modelseal
