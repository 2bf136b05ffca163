// Single-block BLAKE3 compression with the state held as four 128-bit rows (one SIMD register
// per row): the columns step works on all four columns at once, and rotating rows 1-3 turns the
// diagonals into columns. Included by a kernel source file after it defines the four rotations
// rows_rot16/12/8/7(__m128i) for its ISA. Internal linkage, like blake3_lanes_inl.h.
#pragma once

#include <immintrin.h>

#include "blake3_impl.h"

namespace modelseal {
namespace blake3 {
namespace {

inline void rows_g(__m128i& a, __m128i& b, __m128i& c, __m128i& d, __m128i x, __m128i y) {
  a = _mm_add_epi32(_mm_add_epi32(a, b), x);
  d = rows_rot16(_mm_xor_si128(d, a));
  c = _mm_add_epi32(c, d);
  b = rows_rot12(_mm_xor_si128(b, c));
  a = _mm_add_epi32(_mm_add_epi32(a, b), y);
  d = rows_rot8(_mm_xor_si128(d, a));
  c = _mm_add_epi32(c, d);
  b = rows_rot7(_mm_xor_si128(b, c));
}

inline void rows_compress(uint32_t cv[8], const uint8_t block[BLOCK_LEN], uint8_t block_len, uint64_t counter,
                          uint8_t flags) {
  uint32_t m[16];
  std::memcpy(m, block, sizeof m);  // x86 is little-endian, as the spec's word order
  __m128i row0 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(cv));
  __m128i row1 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(cv + 4));
  __m128i row2 = _mm_set_epi32(static_cast<int>(IV[3]), static_cast<int>(IV[2]), static_cast<int>(IV[1]),
                               static_cast<int>(IV[0]));
  __m128i row3 = _mm_set_epi32(flags, block_len, static_cast<int>(static_cast<uint32_t>(counter >> 32)),
                               static_cast<int>(static_cast<uint32_t>(counter)));
  for (int r = 0; r < 7; r++) {
    const uint8_t* s = SCHEDULE.s[r];
    // Columns (v0,v4,v8,v12) ... (v3,v7,v11,v15): lane j of each row is column j.
    rows_g(row0, row1, row2, row3,
           _mm_set_epi32(static_cast<int>(m[s[6]]), static_cast<int>(m[s[4]]), static_cast<int>(m[s[2]]),
                         static_cast<int>(m[s[0]])),
           _mm_set_epi32(static_cast<int>(m[s[7]]), static_cast<int>(m[s[5]]), static_cast<int>(m[s[3]]),
                         static_cast<int>(m[s[1]])));
    // Diagonals (v0,v5,v10,v15), (v1,v6,v11,v12), (v2,v7,v8,v13), (v3,v4,v9,v14): rotate row k
    // left by k lanes so that each diagonal sits in one lane.
    row1 = _mm_shuffle_epi32(row1, _MM_SHUFFLE(0, 3, 2, 1));
    row2 = _mm_shuffle_epi32(row2, _MM_SHUFFLE(1, 0, 3, 2));
    row3 = _mm_shuffle_epi32(row3, _MM_SHUFFLE(2, 1, 0, 3));
    rows_g(row0, row1, row2, row3,
           _mm_set_epi32(static_cast<int>(m[s[14]]), static_cast<int>(m[s[12]]), static_cast<int>(m[s[10]]),
                         static_cast<int>(m[s[8]])),
           _mm_set_epi32(static_cast<int>(m[s[15]]), static_cast<int>(m[s[13]]), static_cast<int>(m[s[11]]),
                         static_cast<int>(m[s[9]])));
    row1 = _mm_shuffle_epi32(row1, _MM_SHUFFLE(2, 1, 0, 3));
    row2 = _mm_shuffle_epi32(row2, _MM_SHUFFLE(1, 0, 3, 2));
    row3 = _mm_shuffle_epi32(row3, _MM_SHUFFLE(0, 3, 2, 1));
  }
  _mm_storeu_si128(reinterpret_cast<__m128i*>(cv), _mm_xor_si128(row0, row2));
  _mm_storeu_si128(reinterpret_cast<__m128i*>(cv + 4), _mm_xor_si128(row1, row3));
}

}  // namespace
}  // namespace blake3
}  // namespace modelseal
