// SHA-256 over 16 independent messages with AVX-512F (compiled with -mavx512f; dispatched only
// where CPUID and XGETBV report AVX-512F with ZMM state enabled). The same transposed layout as the
// AVX2 kernel, twice as wide, and cheaper per round: native rotates (vprord) and three-input logic
// (vpternlogd) for Σ, Ch and Maj. This kernel is for CPUs where SHA-NI does not gain from
// interleaving (measured on an Intel Xeon: SHA-NI x1 ≈ x2 ≈ 1.35 GB/s) or that lack SHA-NI.
// Only AVX-512F instructions are used (no BW/VL), so the byte swap is done with rotates.
// GCC 12's AVX-512 headers start some intrinsics from _mm512_undefined_epi32(), which
// -Wmaybe-uninitialized reports once inlined; the value is fully overwritten (a known false positive).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include "sha256_impl.h"

namespace modelseal {
namespace sha256 {

namespace {

// vpternlogd truth tables (bit i of the immediate is f(a,b,c) for i = a<<2 | b<<1 | c).
constexpr int kXor3 = 0x96;    // a ^ b ^ c
constexpr int kSelect = 0xCA;  // a ? b : c   (Ch(e,f,g) = e ? f : g)
constexpr int kMajority = 0xE8;

inline __m512i add(__m512i a, __m512i b) { return _mm512_add_epi32(a, b); }
inline __m512i xor3(__m512i a, __m512i b, __m512i c) { return _mm512_ternarylogic_epi32(a, b, c, kXor3); }
inline __m512i big_sigma0(__m512i a) { return xor3(_mm512_ror_epi32(a, 2), _mm512_ror_epi32(a, 13), _mm512_ror_epi32(a, 22)); }
inline __m512i big_sigma1(__m512i e) { return xor3(_mm512_ror_epi32(e, 6), _mm512_ror_epi32(e, 11), _mm512_ror_epi32(e, 25)); }
inline __m512i small_sigma0(__m512i w) { return xor3(_mm512_ror_epi32(w, 7), _mm512_ror_epi32(w, 18), _mm512_srli_epi32(w, 3)); }
inline __m512i small_sigma1(__m512i w) { return xor3(_mm512_ror_epi32(w, 17), _mm512_ror_epi32(w, 19), _mm512_srli_epi32(w, 10)); }

// Big-endian words: bytes b3 b2 b1 b0 → b0 b1 b2 b3 = (rotl8 & 0x00FF00FF) | (rotr8 & 0xFF00FF00).
inline __m512i bswap32(__m512i x) {
  return _mm512_ternarylogic_epi32(_mm512_set1_epi32(0x00FF00FF), _mm512_rol_epi32(x, 8), _mm512_ror_epi32(x, 8), kSelect);
}

// r[i] holds the 16 words of row i; afterwards r[j] holds word j of rows 0..15.
inline void transpose16(__m512i r[16]) {
  __m512i t[16], u[16];
  for (int i = 0; i < 8; ++i) {
    t[2 * i] = _mm512_unpacklo_epi32(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm512_unpackhi_epi32(r[2 * i], r[2 * i + 1]);
  }
  // Within each 128-bit lane L of group g (rows 4g..4g+3): u[4g + c] holds word 4L + c of those rows.
  for (int g = 0; g < 4; ++g) {
    u[4 * g + 0] = _mm512_unpacklo_epi64(t[4 * g], t[4 * g + 2]);
    u[4 * g + 1] = _mm512_unpackhi_epi64(t[4 * g], t[4 * g + 2]);
    u[4 * g + 2] = _mm512_unpacklo_epi64(t[4 * g + 1], t[4 * g + 3]);
    u[4 * g + 3] = _mm512_unpackhi_epi64(t[4 * g + 1], t[4 * g + 3]);
  }
  // Gather 128-bit lane L of the four groups into word 4L + c.
  for (int c = 0; c < 4; ++c) {
    const __m512i p = _mm512_shuffle_i32x4(u[c], u[4 + c], 0x44);       // g0.L0 g0.L1 g1.L0 g1.L1
    const __m512i q = _mm512_shuffle_i32x4(u[c], u[4 + c], 0xEE);       // g0.L2 g0.L3 g1.L2 g1.L3
    const __m512i s = _mm512_shuffle_i32x4(u[8 + c], u[12 + c], 0x44);  // g2.L0 g2.L1 g3.L0 g3.L1
    const __m512i v = _mm512_shuffle_i32x4(u[8 + c], u[12 + c], 0xEE);  // g2.L2 g2.L3 g3.L2 g3.L3
    r[0 + c] = _mm512_shuffle_i32x4(p, s, 0x88);   // lane 0 of g0..g3
    r[4 + c] = _mm512_shuffle_i32x4(p, s, 0xDD);   // lane 1
    r[8 + c] = _mm512_shuffle_i32x4(q, v, 0x88);   // lane 2
    r[12 + c] = _mm512_shuffle_i32x4(q, v, 0xDD);  // lane 3
  }
}

}  // namespace

void compress_avx512_x16(uint32_t* const* states, const uint8_t* const* data, size_t nblocks) {
  // Working state, transposed: s[j] holds word j of every lane (loaded once per call).
  alignas(64) uint32_t tmp[16];
  __m512i s[8];
  for (int j = 0; j < 8; ++j) {
    for (int l = 0; l < 16; ++l) tmp[l] = states[l][j];
    s[j] = _mm512_load_si512(tmp);
  }
  const uint8_t* p[16];
  for (int l = 0; l < 16; ++l) p[l] = data[l];

  for (size_t blk = 0; blk < nblocks; ++blk) {
    __m512i w[16];
    for (int l = 0; l < 16; ++l) {
      w[l] = _mm512_loadu_si512(p[l]);
      p[l] += 64;
    }
    transpose16(w);
    for (int i = 0; i < 16; ++i) w[i] = bswap32(w[i]);

    __m512i a = s[0], b = s[1], c = s[2], d = s[3], e = s[4], f = s[5], g = s[6], h = s[7];
#pragma GCC unroll 64
    for (int t = 0; t < 64; ++t) {
      if (t >= 16) {
        w[t & 15] = add(add(w[t & 15], small_sigma0(w[(t + 1) & 15])), add(w[(t + 9) & 15], small_sigma1(w[(t + 14) & 15])));
      }
      const __m512i t1 = add(add(h, big_sigma1(e)),
                             add(_mm512_ternarylogic_epi32(e, f, g, kSelect), add(_mm512_set1_epi32(static_cast<int>(K256[t])), w[t & 15])));
      const __m512i t2 = add(big_sigma0(a), _mm512_ternarylogic_epi32(a, b, c, kMajority));
      h = g;
      g = f;
      f = e;
      e = add(d, t1);
      d = c;
      c = b;
      b = a;
      a = add(t1, t2);
    }
    s[0] = add(s[0], a);
    s[1] = add(s[1], b);
    s[2] = add(s[2], c);
    s[3] = add(s[3], d);
    s[4] = add(s[4], e);
    s[5] = add(s[5], f);
    s[6] = add(s[6], g);
    s[7] = add(s[7], h);
  }

  for (int j = 0; j < 8; ++j) {
    _mm512_store_si512(tmp, s[j]);
    for (int l = 0; l < 16; ++l) states[l][j] = tmp[l];
  }
}

}  // namespace sha256
}  // namespace modelseal
