// AVX2 vector operations for the 8-lane kernel, shared with the AVX-512 kernel (which reuses the
// 8x8 transposes so that its data movement is the one tested on AVX2 machines). Internal linkage.
#pragma once

#include <immintrin.h>

#include "blake3_impl.h"

namespace modelseal {
namespace blake3 {
namespace {

#ifndef PREFETCH_AHEAD
#define PREFETCH_AHEAD 256
#endif

// 8x8 transpose of 32-bit words: r[i] word j becomes r[j] word i.
inline void transpose8(__m256i r[8]) {
  // Within each 128-bit half: pairs, then quads of rows.
  const __m256i t0 = _mm256_unpacklo_epi32(r[0], r[1]);  // r0w0 r1w0 r0w1 r1w1 | r0w4 r1w4 r0w5 r1w5
  const __m256i t1 = _mm256_unpackhi_epi32(r[0], r[1]);  // r0w2 r1w2 r0w3 r1w3 | r0w6 r1w6 r0w7 r1w7
  const __m256i t2 = _mm256_unpacklo_epi32(r[2], r[3]);
  const __m256i t3 = _mm256_unpackhi_epi32(r[2], r[3]);
  const __m256i t4 = _mm256_unpacklo_epi32(r[4], r[5]);
  const __m256i t5 = _mm256_unpackhi_epi32(r[4], r[5]);
  const __m256i t6 = _mm256_unpacklo_epi32(r[6], r[7]);
  const __m256i t7 = _mm256_unpackhi_epi32(r[6], r[7]);
  const __m256i u0 = _mm256_unpacklo_epi64(t0, t2);  // r0..3 w0 | r0..3 w4
  const __m256i u1 = _mm256_unpackhi_epi64(t0, t2);  // r0..3 w1 | r0..3 w5
  const __m256i u2 = _mm256_unpacklo_epi64(t1, t3);  // w2 | w6
  const __m256i u3 = _mm256_unpackhi_epi64(t1, t3);  // w3 | w7
  const __m256i u4 = _mm256_unpacklo_epi64(t4, t6);  // r4..7 ...
  const __m256i u5 = _mm256_unpackhi_epi64(t4, t6);
  const __m256i u6 = _mm256_unpacklo_epi64(t5, t7);
  const __m256i u7 = _mm256_unpackhi_epi64(t5, t7);
  // Join rows 0-3 (low operand) with rows 4-7 (high operand), per 128-bit half.
  r[0] = _mm256_permute2x128_si256(u0, u4, 0x20);
  r[4] = _mm256_permute2x128_si256(u0, u4, 0x31);
  r[1] = _mm256_permute2x128_si256(u1, u5, 0x20);
  r[5] = _mm256_permute2x128_si256(u1, u5, 0x31);
  r[2] = _mm256_permute2x128_si256(u2, u6, 0x20);
  r[6] = _mm256_permute2x128_si256(u2, u6, 0x31);
  r[3] = _mm256_permute2x128_si256(u3, u7, 0x20);
  r[7] = _mm256_permute2x128_si256(u3, u7, 0x31);
}

// Loads words [8*half, 8*half+8) of the block at in[i] + off for lanes first..first+7, transposed:
// r[j] = word 8*half+j of the 8 lanes.
inline void load_transposed8(const uint8_t* const* in, size_t first, size_t off, int half, __m256i r[8]) {
  for (int i = 0; i < 8; i++) {
    // Each lane is its own stream (chunks 1 KiB apart); asking for a block a few ahead hides the
    // memory latency that the hardware prefetcher, tracking 8+ streams, does not fully cover.
#if PREFETCH_AHEAD > 0
    if (half == 0) _mm_prefetch(reinterpret_cast<const char*>(in[first + i] + off + PREFETCH_AHEAD), _MM_HINT_T0);
#endif
    r[i] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(in[first + i] + off + 32 * half));
  }
  transpose8(r);
}

// load_transposed8, and stores each lane's 32 bytes as loaded to out[first + i] + off + 32 * half
// first (the copy-out kernel: the bytes stored are the bytes hashed).
inline void load_transposed8_copy(const uint8_t* const* in, uint8_t* const* out, size_t first, size_t off, int half,
                                  __m256i r[8]) {
  for (int i = 0; i < 8; i++) {
#if PREFETCH_AHEAD > 0
    if (half == 0) _mm_prefetch(reinterpret_cast<const char*>(in[first + i] + off + PREFETCH_AHEAD), _MM_HINT_T0);
#endif
    r[i] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(in[first + i] + off + 32 * half));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out[first + i] + off + 32 * half), r[i]);
  }
  transpose8(r);
}

// Stores 8 lanes' chaining values: h[w] holds word w of each lane; lane i goes to out + 32 i.
inline void store_transposed8(const __m256i h[8], uint8_t* out) {
  __m256i r[8] = {h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7]};
  transpose8(r);
  for (int i = 0; i < 8; i++) _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + 32 * i), r[i]);
}

}  // namespace
}  // namespace blake3
}  // namespace modelseal
