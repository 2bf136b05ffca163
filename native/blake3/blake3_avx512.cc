// AVX-512 BLAKE3 kernel: hash_many over 16 inputs at a time (one per lane of a 512-bit register,
// with single-instruction rotations), fewer than 16 go to the AVX2 kernel. Compiled with
// -mavx512f -mavx512vl; dispatched only when cpu_features().avx512f && avx512vl.
//
// The development machine has no AVX-512, so this file is compiled and reviewed but its tests
// skip there. To keep the untestable part small, its data movement reuses the 8x8 transposes
// of the AVX2 kernel (tested everywhere AVX2 runs) instead of a native 16x16 transpose; only the
// 512-bit arithmetic, the rotations and the half joins are AVX-512 specific.
#if defined(MODELSEAL_X86)
#if defined(__GNUC__) && !defined(__clang__)
// GCC reassociates `(a + m) + b` into `(a + b) + m`, which puts one more add on the dependency
// chain of every G step; keeping the written order measured ~5-8% faster here.
#pragma GCC optimize("no-tree-reassoc")
#endif
// GCC 12's AVX-512 intrinsic headers start from _mm512_undefined_*(), which -Wmaybe-uninitialized
// reports falsely.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif
#include <immintrin.h>

#include "blake3_avx2_inl.h"

namespace modelseal {
namespace blake3 {
namespace {

inline __m128i rows_rot16(__m128i x) { return _mm_ror_epi32(x, 16); }
inline __m128i rows_rot12(__m128i x) { return _mm_ror_epi32(x, 12); }
inline __m128i rows_rot8(__m128i x) { return _mm_ror_epi32(x, 8); }
inline __m128i rows_rot7(__m128i x) { return _mm_ror_epi32(x, 7); }

inline __m512i join(__m256i lo, __m256i hi) { return _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1); }

struct Lanes {
  using T = __m512i;
  static constexpr size_t N = 16;
  static T add(T a, T b) { return _mm512_add_epi32(a, b); }
  static T xor_(T a, T b) { return _mm512_xor_si512(a, b); }
  static T rot16(T x) { return _mm512_ror_epi32(x, 16); }
  static T rot12(T x) { return _mm512_ror_epi32(x, 12); }
  static T rot8(T x) { return _mm512_ror_epi32(x, 8); }
  static T rot7(T x) { return _mm512_ror_epi32(x, 7); }
  static T set1(uint32_t w) { return _mm512_set1_epi32(static_cast<int>(w)); }
  static T load_words(const uint32_t* p) { return _mm512_loadu_si512(p); }
  static void load_msg(const uint8_t* const* in, size_t off, T m[16]) {
    for (int half = 0; half < 2; half++) {
      __m256i lo[8], hi[8];
      load_transposed8(in, 0, off, half, lo);  // lanes 0-7
      load_transposed8(in, 8, off, half, hi);  // lanes 8-15
      for (int j = 0; j < 8; j++) m[8 * half + j] = join(lo[j], hi[j]);
    }
  }
  static void prefetch(const uint8_t* p) { _mm_prefetch(reinterpret_cast<const char*>(p), _MM_HINT_T0); }
  static void store_cvs(const T h[8], uint8_t* out) {
    __m256i lo[8], hi[8];
    for (int w = 0; w < 8; w++) {
      lo[w] = _mm512_castsi512_si256(h[w]);
      hi[w] = _mm512_extracti64x4_epi64(h[w], 1);
    }
    store_transposed8(lo, out);
    store_transposed8(hi, out + 8 * OUT_LEN);
  }
};

}  // namespace
}  // namespace blake3
}  // namespace modelseal

#include "blake3_lanes_inl.h"
#include "blake3_rows_inl.h"

namespace modelseal {
namespace blake3 {

void compress_avx512(uint32_t cv[8], const uint8_t block[BLOCK_LEN], uint8_t block_len, uint64_t counter,
                     uint8_t flags) {
  rows_compress(cv, block, block_len, counter, flags);
}

void hash_many_avx512(const uint8_t* const* inputs, size_t num_inputs, size_t blocks, const uint32_t key[8],
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
    hash_many_avx2(inputs, num_inputs, blocks, key, counter, increment_counter, flags, flags_start, flags_end, out);
}

}  // namespace blake3
}  // namespace modelseal
#endif  // MODELSEAL_X86
