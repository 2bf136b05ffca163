// SSE4.1 BLAKE3 kernel: hash_many over 4 inputs at a time (one per 32-bit lane), and the row-wise
// single-block compress that the AVX2 kernel also uses. Compiled with -msse4.1 only; dispatched
// only when cpu_features().sse41.
#if defined(MODELSEAL_X86)
#if defined(__GNUC__) && !defined(__clang__)
// GCC reassociates `(a + m) + b` into `(a + b) + m`, which puts one more add on the dependency
// chain of every G step; keeping the written order measured ~5-8% faster here.
#pragma GCC optimize("no-tree-reassoc")
#endif
#include <immintrin.h>

#include "blake3_impl.h"

namespace modelseal {
namespace blake3 {
namespace {

// Rotations right by 16 and 8 are byte shuffles (one instruction); 12 and 7 need shifts.
inline __m128i rows_rot16(__m128i x) {
  return _mm_shuffle_epi8(x, _mm_set_epi8(13, 12, 15, 14, 9, 8, 11, 10, 5, 4, 7, 6, 1, 0, 3, 2));
}
inline __m128i rows_rot12(__m128i x) { return _mm_or_si128(_mm_srli_epi32(x, 12), _mm_slli_epi32(x, 20)); }
inline __m128i rows_rot8(__m128i x) {
  return _mm_shuffle_epi8(x, _mm_set_epi8(12, 15, 14, 13, 8, 11, 10, 9, 4, 7, 6, 5, 0, 3, 2, 1));
}
inline __m128i rows_rot7(__m128i x) { return _mm_or_si128(_mm_srli_epi32(x, 7), _mm_slli_epi32(x, 25)); }

// 4x4 transpose of 32-bit words: r[i] word j becomes r[j] word i.
inline void transpose4(__m128i r[4]) {
  const __m128i t0 = _mm_unpacklo_epi32(r[0], r[1]);  // r0w0 r1w0 r0w1 r1w1
  const __m128i t1 = _mm_unpackhi_epi32(r[0], r[1]);  // r0w2 r1w2 r0w3 r1w3
  const __m128i t2 = _mm_unpacklo_epi32(r[2], r[3]);
  const __m128i t3 = _mm_unpackhi_epi32(r[2], r[3]);
  r[0] = _mm_unpacklo_epi64(t0, t2);
  r[1] = _mm_unpackhi_epi64(t0, t2);
  r[2] = _mm_unpacklo_epi64(t1, t3);
  r[3] = _mm_unpackhi_epi64(t1, t3);
}

// Lanes kernel only: the rotation masks are read from memory at each use (a volatile load), not
// hoisted into registers that the 16 state words need (see blake3_avx2.cc).
alignas(16) const uint8_t ROT16_BYTES[16] = {2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13};
alignas(16) const uint8_t ROT8_BYTES[16] = {1, 2, 3, 0, 5, 6, 7, 4, 9, 10, 11, 8, 13, 14, 15, 12};
inline __m128i shuffle_mask(const uint8_t* bytes) { return *reinterpret_cast<const volatile __m128i*>(bytes); }

struct Lanes {
  using T = __m128i;
  static constexpr size_t N = 4;
  static T add(T a, T b) { return _mm_add_epi32(a, b); }
  static T xor_(T a, T b) { return _mm_xor_si128(a, b); }
  static T rot16(T x) { return _mm_shuffle_epi8(x, shuffle_mask(ROT16_BYTES)); }
  static T rot12(T x) { return rows_rot12(x); }
  static T rot8(T x) { return _mm_shuffle_epi8(x, shuffle_mask(ROT8_BYTES)); }
  static T rot7(T x) { return rows_rot7(x); }
  static T set1(uint32_t w) { return _mm_set1_epi32(static_cast<int>(w)); }
  static T load_words(const uint32_t* p) { return _mm_loadu_si128(reinterpret_cast<const __m128i*>(p)); }
  static void load_msg(const uint8_t* const* in, size_t off, T m[16]) {
    for (int q = 0; q < 4; q++) {
      __m128i r[4];
      for (int i = 0; i < 4; i++) r[i] = _mm_loadu_si128(reinterpret_cast<const __m128i*>(in[i] + off + 16 * q));
      transpose4(r);
      for (int j = 0; j < 4; j++) m[4 * q + j] = r[j];
    }
  }
  static void prefetch(const uint8_t* p) { _mm_prefetch(reinterpret_cast<const char*>(p), _MM_HINT_T0); }
  static void store_cvs(const T h[8], uint8_t* out) {
    __m128i a[4] = {h[0], h[1], h[2], h[3]};
    __m128i b[4] = {h[4], h[5], h[6], h[7]};
    transpose4(a);
    transpose4(b);
    for (int i = 0; i < 4; i++) {
      _mm_storeu_si128(reinterpret_cast<__m128i*>(out + 32 * i), a[i]);
      _mm_storeu_si128(reinterpret_cast<__m128i*>(out + 32 * i + 16), b[i]);
    }
  }
};

}  // namespace
}  // namespace blake3
}  // namespace modelseal

#include "blake3_lanes_inl.h"
#include "blake3_rows_inl.h"

namespace modelseal {
namespace blake3 {

void compress_sse41(uint32_t cv[8], const uint8_t block[BLOCK_LEN], uint8_t block_len, uint64_t counter,
                    uint8_t flags) {
  rows_compress(cv, block, block_len, counter, flags);
}

void hash_many_sse41(const uint8_t* const* inputs, size_t num_inputs, size_t blocks, const uint32_t key[8],
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
  // Fewer inputs than lanes: one at a time with the row-wise compress.
  for (size_t i = 0; i < num_inputs; i++) {
    uint32_t cv[8];
    std::memcpy(cv, key, sizeof cv);
    const uint64_t ctr = counter + (increment_counter ? i : 0);
    for (size_t b = 0; b < blocks; b++) {
      uint8_t f = flags;
      if (b == 0) f |= flags_start;
      if (b + 1 == blocks) f |= flags_end;
      rows_compress(cv, inputs[i] + b * BLOCK_LEN, BLOCK_LEN, ctr, f);
    }
    std::memcpy(out + OUT_LEN * i, cv, OUT_LEN);
  }
}

}  // namespace blake3
}  // namespace modelseal
#endif  // MODELSEAL_X86
