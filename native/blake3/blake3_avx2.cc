// AVX2 BLAKE3 kernel: hash_many over 8 inputs at a time; fewer than 8 go to the SSE4.1 kernel
// (every AVX2 CPU has SSE4.1), which also provides the single-block compress. Compiled with -mavx2;
// dispatched only when cpu_features().avx2.
#if defined(MODELSEAL_X86)
#if defined(__GNUC__) && !defined(__clang__)
// GCC reassociates `(a + m) + b` into `(a + b) + m`, which puts one more add on the dependency
// chain of every G step; keeping the written order measured ~5-8% faster here.
#pragma GCC optimize("no-tree-reassoc")
#endif
#include <immintrin.h>

#include <cstring>

#include "blake3_avx2_inl.h"

namespace modelseal {
namespace blake3 {
namespace {

// Byte shuffles that rotate each 32-bit word right by 16 and by 8.
alignas(32) const uint8_t ROT16_BYTES[32] = {2, 3, 0, 1, 6,  7,  4, 5, 10, 11, 8, 9, 14, 15, 12, 13,
                                             2, 3, 0, 1, 6,  7,  4, 5, 10, 11, 8, 9, 14, 15, 12, 13};
alignas(32) const uint8_t ROT8_BYTES[32] = {1, 2, 3, 0, 5,  6,  7, 4, 9,  10, 11, 8, 13, 14, 15, 12,
                                            1, 2, 3, 0, 5,  6,  7, 4, 9,  10, 11, 8, 13, 14, 15, 12};

// The masks are read from memory at each use (a volatile load) instead of being hoisted into two
// registers: with all 16 registers holding state, GCC otherwise spills state words on the
// critical path. Loads are cheap here; this measured ~7% faster (and faster than clang's code).
inline __m256i shuffle_mask(const uint8_t* bytes) { return *reinterpret_cast<const volatile __m256i*>(bytes); }

struct Lanes {
  using T = __m256i;
  static constexpr size_t N = 8;
  static T add(T a, T b) { return _mm256_add_epi32(a, b); }
  static T xor_(T a, T b) { return _mm256_xor_si256(a, b); }
  static T rot16(T x) { return _mm256_shuffle_epi8(x, shuffle_mask(ROT16_BYTES)); }
  static T rot12(T x) { return _mm256_or_si256(_mm256_srli_epi32(x, 12), _mm256_slli_epi32(x, 20)); }
  static T rot8(T x) { return _mm256_shuffle_epi8(x, shuffle_mask(ROT8_BYTES)); }
  static T rot7(T x) { return _mm256_or_si256(_mm256_srli_epi32(x, 7), _mm256_slli_epi32(x, 25)); }
  static T set1(uint32_t w) { return _mm256_set1_epi32(static_cast<int>(w)); }
  static T load_words(const uint32_t* p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); }
  static void load_msg(const uint8_t* const* in, size_t off, T m[16]) {
    load_transposed8(in, 0, off, 0, m);
    load_transposed8(in, 0, off, 1, m + 8);
  }
  static void load_msg_copy(const uint8_t* const* in, uint8_t* const* dst, size_t off, T m[16]) {
    load_transposed8_copy(in, dst, 0, off, 0, m);
    load_transposed8_copy(in, dst, 0, off, 1, m + 8);
  }
  static void prefetch(const uint8_t* p) { _mm_prefetch(reinterpret_cast<const char*>(p), _MM_HINT_T0); }
  static void store_cvs(const T h[8], uint8_t* out) { store_transposed8(h, out); }
};

}  // namespace
}  // namespace blake3
}  // namespace modelseal

#include "blake3_lanes_inl.h"

namespace modelseal {
namespace blake3 {

void hash_many_avx2(const uint8_t* const* inputs, size_t num_inputs, size_t blocks, const uint32_t key[8],
                    uint64_t counter, bool increment_counter, uint8_t flags, uint8_t flags_start,
                    uint8_t flags_end, uint8_t* out) {
  while (num_inputs >= Lanes::N) {
    const uint8_t* const* next = num_inputs >= 2 * Lanes::N ? inputs + Lanes::N : nullptr;
    hash_lanes<Lanes>(inputs, next, blocks, key, counter, increment_counter, flags, flags_start, flags_end, out);
    inputs += Lanes::N;
    num_inputs -= Lanes::N;
    out += Lanes::N * OUT_LEN;
    if (increment_counter) counter += Lanes::N;
  }
  if (num_inputs > 0)
    hash_many_sse41(inputs, num_inputs, blocks, key, counter, increment_counter, flags, flags_start, flags_end, out);
}

void hash_many_avx2_copy(const uint8_t* const* inputs, uint8_t* const* dsts, size_t num_inputs, size_t blocks,
                         const uint32_t key[8], uint64_t counter, bool increment_counter, uint8_t flags,
                         uint8_t flags_start, uint8_t flags_end, uint8_t* out) {
  while (num_inputs >= Lanes::N) {
    const uint8_t* const* next = num_inputs >= 2 * Lanes::N ? inputs + Lanes::N : nullptr;
    hash_lanes<Lanes, true>(inputs, next, blocks, key, counter, increment_counter, flags, flags_start, flags_end, out, dsts);
    inputs += Lanes::N;
    dsts += Lanes::N;
    num_inputs -= Lanes::N;
    out += Lanes::N * OUT_LEN;
    if (increment_counter) counter += Lanes::N;
  }
  if (num_inputs > 0) {
    // the last few inputs: copied, then hashed from the copy (still the bytes stored)
    for (size_t i = 0; i < num_inputs; i++) std::memcpy(dsts[i], inputs[i], blocks * BLOCK_LEN);
    hash_many_sse41(dsts, num_inputs, blocks, key, counter, increment_counter, flags, flags_start, flags_end, out);
  }
}

}  // namespace blake3
}  // namespace modelseal
#endif  // MODELSEAL_X86
