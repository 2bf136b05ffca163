// The one place that maps CPU features to SHA-256 kernels, ordered best first.
#include <cstring>
#include <vector>

#include "cpu_features.h"
#include "sha256_impl.h"

#if defined(__aarch64__) && defined(__linux__)
#include <asm/hwcap.h>
#include <sys/auxv.h>
#endif

namespace modelseal {
namespace sha256 {

namespace {

// Order = preference, and the default is the first runnable entry: a fixed rule from CPU features,
// the same in every process (a start-up micro-timing used to decide between SHA-NI and AVX-512 and
// flipped between runs: on a Genoa VM it picked avx512-x16 at 2.92 GB/s over shani-x4 at 3.66).
// Names of other architectures are listed too, never runnable.
// - SHA-NI: the 2-way interleave. On Zen 3 it nearly doubles one stream (1 MiB leaves, one thread:
//   2.68 against 1.51 GB/s) and, unlike 4-way, keeps its gain when both cores hash at once; on Zen 4
//   (Genoa) x2 3.46, x4 3.66, avx512-x16 2.92, one stream 1.81 GB/s in memory; on an Intel Xeon it
//   merely equals one stream. 4-way stays a forced option (it wins on one idle core).
// - AVX-512 / AVX2 lanes only without SHA-NI: SHA-NI beats them wherever both were measured.
// - ARMv8 SHA-2 extension: its 2-way interleave; otherwise portable scalar.
#if defined(MODELSEAL_X86)
#define MODELSEAL_X86_FN(f) f
#else
#define MODELSEAL_X86_FN(f) nullptr
#endif
#if defined(__aarch64__)
#define MODELSEAL_ARM_FN(f) f
#else
#define MODELSEAL_ARM_FN(f) nullptr
#endif

const Kernel kAll[] = {
    {"shani-x2", 2, {2, 1, 0}, {MODELSEAL_X86_FN(compress_shani_x2), MODELSEAL_X86_FN(compress_shani_x1), nullptr}, false,
     {MODELSEAL_X86_FN(compress_shani_x2_copy), MODELSEAL_X86_FN(compress_shani_x1_copy), nullptr}},
    {"shani-x4", 3, {4, 2, 1}, {MODELSEAL_X86_FN(compress_shani_x4), MODELSEAL_X86_FN(compress_shani_x2), MODELSEAL_X86_FN(compress_shani_x1)}, false,
     {nullptr, MODELSEAL_X86_FN(compress_shani_x2_copy), MODELSEAL_X86_FN(compress_shani_x1_copy)}},
    {"shani", 1, {1, 0, 0}, {MODELSEAL_X86_FN(compress_shani_x1), nullptr, nullptr}, false,
     {MODELSEAL_X86_FN(compress_shani_x1_copy), nullptr, nullptr}},
    {"armv8-sha2-x2", 2, {2, 1, 0}, {MODELSEAL_ARM_FN(compress_armv8_x2), MODELSEAL_ARM_FN(compress_armv8_x1), nullptr}, false, {nullptr, nullptr, nullptr}},
    {"armv8-sha2", 1, {1, 0, 0}, {MODELSEAL_ARM_FN(compress_armv8_x1), nullptr, nullptr}, false, {nullptr, nullptr, nullptr}},
    {"avx512-x16", 2, {16, 1, 0}, {MODELSEAL_X86_FN(compress_avx512_x16), compress_best_x1, nullptr}, true, {nullptr, nullptr, nullptr}},
    {"avx2-x8", 2, {8, 1, 0}, {MODELSEAL_X86_FN(compress_avx2_x8), compress_best_x1, nullptr}, true, {nullptr, nullptr, nullptr}},
    {"scalar", 1, {1, 0, 0}, {compress_scalar, nullptr, nullptr}, false, {nullptr, nullptr, nullptr}},
};

bool armv8_sha2() {
#if defined(__aarch64__) && defined(__linux__)
  return (getauxval(AT_HWCAP) & HWCAP_SHA2) != 0;
#else
  return false;
#endif
}

bool runnable(const Kernel& k) {
  if (k.fns[0] == nullptr) return false;  // not compiled for this architecture
  const CpuFeatures& f = cpu_features();
  if (std::strncmp(k.name, "shani", 5) == 0) return f.sha_ni && f.sse41 && f.ssse3;
  if (std::strncmp(k.name, "armv8-sha2", 10) == 0) {
    static const bool sha2 = armv8_sha2();
    return sha2;
  }
  if (std::strcmp(k.name, "avx2-x8") == 0) return f.avx2;
  if (std::strcmp(k.name, "avx512-x16") == 0) return f.avx512f && f.avx2;
  return true;
}

const Kernel* by_name(const char* name) {
  for (const Kernel& k : kAll)
    if (std::strcmp(k.name, name) == 0) return &k;
  return nullptr;
}

// Runnable kernels, best first: kAll filtered by what this CPU can run.
const std::vector<const Kernel*>& ordered() {
  static const std::vector<const Kernel*> list = [] {
    std::vector<const Kernel*> v;
    for (const Kernel& k : kAll)
      if (runnable(k)) v.push_back(&k);
    return v;
  }();
  return list;
}

}  // namespace

void compress_best_x1(uint32_t* const* states, const uint8_t* const* data, size_t nblocks) {
#if defined(MODELSEAL_X86)
  static const MultiFn fn = cpu_features().sha_ni && cpu_features().sse41 ? compress_shani_x1 : compress_scalar;
#elif defined(__aarch64__)
  static const MultiFn fn = armv8_sha2() ? compress_armv8_x1 : compress_scalar;
#else
  static const MultiFn fn = compress_scalar;
#endif
  fn(states, data, nblocks);
}

int pad_threshold(const Kernel& k) {
  if (!k.pad_lanes) return kMaxKernelLanes + 1;
#if defined(MODELSEAL_X86)
  static const bool fast_x1 = cpu_features().sha_ni && cpu_features().sse41;
  if (k.widths[0] == 16 && fast_x1) return 9;
#endif
  return 2;
}

int available_kernels(const Kernel** out, int max) {
  int n = 0;
  for (const Kernel* k : ordered())
    if (n < max) out[n++] = k;
  return n;
}

const Kernel* find_kernel(const char* name, bool* is_runnable) {
  const Kernel* k = by_name(name);
  *is_runnable = k && runnable(*k);
  return k;
}

const Kernel& default_kernel() { return *ordered().front(); }  // scalar is always runnable

const char* default_kernel_reason() {
  const Kernel& k = default_kernel();
  if (std::strncmp(k.name, "shani", 5) == 0)
    return "SHA-NI present: two interleaved streams (faster than one stream and than AVX-512/AVX2 lanes on Zen 3 and Zen 4, equal to one stream on a Xeon); vector lanes are chosen only without SHA-NI";
  if (std::strncmp(k.name, "armv8-sha2", 10) == 0) return "ARMv8 SHA-2 extension present: its 2-way interleave";
  if (std::strcmp(k.name, "avx512-x16") == 0) return "no SHA-NI; AVX-512F present: 16 message lanes";
  if (std::strcmp(k.name, "avx2-x8") == 0) return "no SHA-NI or AVX-512F; AVX2 present: 8 message lanes";
  return "no SHA instructions or vector lanes on this CPU: portable scalar";
}

}  // namespace sha256
}  // namespace modelseal
