// SHA-256 with the x86 SHA extensions (compiled with -msha -msse4.1; dispatched only where CPUID
// reports SHA-NI). One template serves 1, 2 and 4 independent lanes: each step is written once per
// lane inside the same unrolled round group, so the out-of-order core overlaps the lanes' serial
// sha256rnds2 chains (latency-bound for one message, throughput-bound for two or more).
//
// State layout for sha256rnds2: one register holds (A,B,E,F) and the other (C,D,G,H), word A/C in
// the highest lane. Each sha256rnds2 does two rounds and returns the new ABEF; the old ABEF becomes
// the new CDGH, so the two registers swap roles every call and the code alternates them.
#include <immintrin.h>

#include "sha256_impl.h"

namespace modelseal {
namespace sha256 {

namespace {

// Copy: every block is also stored to dst[l] exactly as loaded (before the byte swap), so the bytes
// stored are the bytes hashed even when the source changes meanwhile (a mapped file rewritten).
template <int N, bool Copy>
inline void compress_shani(uint32_t* const* states, const uint8_t* const* data, uint8_t* const* dst, size_t nblocks) {
  // Byte order: message words are big-endian.
  const __m128i bswap = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
  __m128i abef[N], cdgh[N];
  const uint8_t* p[N];
  uint8_t* q[N];
#pragma GCC unroll 4
  for (int l = 0; l < N; ++l) {
    // Memory order a,b,c,d / e,f,g,h → ABEF / CDGH register order.
    __m128i abcd = _mm_loadu_si128(reinterpret_cast<const __m128i*>(states[l]));
    __m128i efgh = _mm_loadu_si128(reinterpret_cast<const __m128i*>(states[l] + 4));
    abcd = _mm_shuffle_epi32(abcd, 0xB1);                 // (b,a,d,c) low→high
    efgh = _mm_shuffle_epi32(efgh, 0x1B);                 // (h,g,f,e)
    abef[l] = _mm_alignr_epi8(abcd, efgh, 8);             // (f,e,b,a)
    cdgh[l] = _mm_blend_epi16(efgh, abcd, 0xF0);          // (h,g,d,c)
    p[l] = data[l];
    q[l] = Copy ? dst[l] : nullptr;
  }

  for (size_t blk = 0; blk < nblocks; ++blk) {
    __m128i save_abef[N], save_cdgh[N], m[N][4];
#pragma GCC unroll 4
    for (int l = 0; l < N; ++l) {
      save_abef[l] = abef[l];
      save_cdgh[l] = cdgh[l];
#pragma GCC unroll 4
      for (int i = 0; i < 4; ++i) {
        const __m128i raw = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p[l] + 16 * i));
        if (Copy) _mm_storeu_si128(reinterpret_cast<__m128i*>(q[l] + 16 * i), raw);
        m[l][i] = _mm_shuffle_epi8(raw, bswap);
      }
      p[l] += 64;
      if (Copy) q[l] += 64;
    }
    // 16 groups of 4 rounds. Group g uses message words 4g..4g+3, kept in a ring of 4 registers;
    // for g >= 4 they are W[t] = σ1(W[t-2]) + W[t-7] + σ0(W[t-15]) + W[t-16], assembled with
    // msg1 (the σ0 part), a shifted add for W[t-7], and msg2 (the σ1 part, which depends on the
    // words it is computing).
#pragma GCC unroll 16
    for (int g = 0; g < 16; ++g) {
      const __m128i k = _mm_loadu_si128(reinterpret_cast<const __m128i*>(K256 + 4 * g));
#pragma GCC unroll 4
      for (int l = 0; l < N; ++l) {
        if (g >= 4) {
          __m128i w = _mm_sha256msg1_epu32(m[l][g & 3], m[l][(g + 1) & 3]);       // W[t-16] + σ0(W[t-15])
          w = _mm_add_epi32(w, _mm_alignr_epi8(m[l][(g + 3) & 3], m[l][(g + 2) & 3], 4));  // + W[t-7]
          m[l][g & 3] = _mm_sha256msg2_epu32(w, m[l][(g + 3) & 3]);                // + σ1(W[t-2])
        }
        __m128i wk = _mm_add_epi32(m[l][g & 3], k);
        cdgh[l] = _mm_sha256rnds2_epu32(cdgh[l], abef[l], wk);  // rounds 4g, 4g+1: cdgh now holds ABEF
        wk = _mm_shuffle_epi32(wk, 0x0E);
        abef[l] = _mm_sha256rnds2_epu32(abef[l], cdgh[l], wk);  // rounds 4g+2, 4g+3: back to ABEF/CDGH
      }
    }
#pragma GCC unroll 4
    for (int l = 0; l < N; ++l) {
      abef[l] = _mm_add_epi32(abef[l], save_abef[l]);
      cdgh[l] = _mm_add_epi32(cdgh[l], save_cdgh[l]);
    }
  }

#pragma GCC unroll 4
  for (int l = 0; l < N; ++l) {
    const __m128i feba = _mm_shuffle_epi32(abef[l], 0x1B);  // (a,b,e,f)
    const __m128i hgdc = _mm_shuffle_epi32(cdgh[l], 0xB1);  // (g,h,c,d)
    const __m128i abcd = _mm_blend_epi16(feba, hgdc, 0xF0);  // (a,b,c,d)
    const __m128i efgh = _mm_alignr_epi8(hgdc, feba, 8);     // (e,f,g,h)
    _mm_storeu_si128(reinterpret_cast<__m128i*>(states[l]), abcd);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(states[l] + 4), efgh);
  }
}

}  // namespace

void compress_shani_x1(uint32_t* const* states, const uint8_t* const* data, size_t nblocks) {
  compress_shani<1, false>(states, data, nullptr, nblocks);
}
void compress_shani_x2(uint32_t* const* states, const uint8_t* const* data, size_t nblocks) {
  compress_shani<2, false>(states, data, nullptr, nblocks);
}
void compress_shani_x4(uint32_t* const* states, const uint8_t* const* data, size_t nblocks) {
  compress_shani<4, false>(states, data, nullptr, nblocks);
}
void compress_shani_x1_copy(uint32_t* const* states, const uint8_t* const* data, uint8_t* const* dst, size_t nblocks) {
  if (dst)
    compress_shani<1, true>(states, data, dst, nblocks);
  else
    compress_shani<1, false>(states, data, nullptr, nblocks);
}
void compress_shani_x2_copy(uint32_t* const* states, const uint8_t* const* data, uint8_t* const* dst, size_t nblocks) {
  if (dst)
    compress_shani<2, true>(states, data, dst, nblocks);
  else
    compress_shani<2, false>(states, data, nullptr, nblocks);
}

}  // namespace sha256
}  // namespace modelseal
