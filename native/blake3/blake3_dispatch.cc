// The one place that decides which BLAKE3 kernel runs: a table ordered best first, filtered by
// the CPU features detected once (native/cpu_features.h). A kernel can also be forced by name so
// that every kernel this CPU can run is tested here, not only the best one.
#include <cstring>

#include "blake3_impl.h"
#include "cpu_features.h"

namespace modelseal {
namespace blake3 {

namespace {

const Kernel PORTABLE = {"portable", 1, compress_portable, hash_many_portable, nullptr};
#if defined(MODELSEAL_X86)
const Kernel SSE41 = {"sse41", 4, compress_sse41, hash_many_sse41, nullptr};
// AVX2 has no single-block compress of its own: one block fills only a 128-bit row state.
const Kernel AVX2 = {"avx2", 8, compress_sse41, hash_many_avx2, hash_many_avx2_copy};
const Kernel AVX512 = {"avx512", 16, compress_avx512, hash_many_avx512, nullptr};
#endif

// Every kernel name any build knows, to tell "not on this CPU" from "no such kernel".
const char* const ALL_NAMES[] = {"avx512", "avx2", "sse41", "portable"};

struct Table {
  const Kernel* list[5];
  size_t count = 0;
};

Table build_table() {
  Table t;
#if defined(MODELSEAL_X86)
  const CpuFeatures& f = cpu_features();
  if (f.avx512f && f.avx512vl && f.avx2 && f.sse41) t.list[t.count++] = &AVX512;
  if (f.avx2 && f.sse41) t.list[t.count++] = &AVX2;
  if (f.sse41) t.list[t.count++] = &SSE41;
#endif
  t.list[t.count++] = &PORTABLE;
  return t;
}

const Table& table() {
  static const Table t = build_table();
  return t;
}

}  // namespace

const Kernel* const* runnable_kernels(size_t* count) {
  *count = table().count;
  return table().list;
}

const Kernel& default_kernel() { return *table().list[0]; }

const Kernel* find_kernel(const char* name, bool* known_name) {
  *known_name = false;
  for (const char* n : ALL_NAMES)
    if (std::strcmp(n, name) == 0) *known_name = true;
  const Table& t = table();
  for (size_t i = 0; i < t.count; i++)
    if (std::strcmp(t.list[i]->name, name) == 0) return t.list[i];
  return nullptr;
}

}  // namespace blake3
}  // namespace modelseal
