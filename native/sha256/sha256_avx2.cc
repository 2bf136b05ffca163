// SHA-256 over 8 independent messages with AVX2 (compiled with -mavx2; dispatched only where CPUID
// and XGETBV report AVX2). Each ymm register holds the same working variable or message word of the
// 8 lanes, one lane per 32-bit element, so the scalar round function runs unchanged on 8 messages.
// Loading a block therefore needs an 8x8 transpose of 32-bit words (twice per 64-byte block).
// This is the kernel for CPUs without SHA-NI; on SHA-NI CPUs it is slower and only forced in tests.
#include <immintrin.h>

#include "sha256_impl.h"

namespace modelseal {
namespace sha256 {

namespace {

inline __m256i add(__m256i a, __m256i b) { return _mm256_add_epi32(a, b); }
inline __m256i rotr(__m256i x, int n) { return _mm256_or_si256(_mm256_srli_epi32(x, n), _mm256_slli_epi32(x, 32 - n)); }
inline __m256i xor3(__m256i a, __m256i b, __m256i c) { return _mm256_xor_si256(_mm256_xor_si256(a, b), c); }

inline __m256i big_sigma0(__m256i a) { return xor3(rotr(a, 2), rotr(a, 13), rotr(a, 22)); }
inline __m256i big_sigma1(__m256i e) { return xor3(rotr(e, 6), rotr(e, 11), rotr(e, 25)); }
inline __m256i small_sigma0(__m256i w) { return xor3(rotr(w, 7), rotr(w, 18), _mm256_srli_epi32(w, 3)); }
inline __m256i small_sigma1(__m256i w) { return xor3(rotr(w, 17), rotr(w, 19), _mm256_srli_epi32(w, 10)); }
// Ch(e,f,g) = (e & f) ^ (~e & g) = ((f ^ g) & e) ^ g; Maj(a,b,c) = ((a ^ b) & (b ^ c)) ^ b.
inline __m256i ch(__m256i e, __m256i f, __m256i g) { return _mm256_xor_si256(_mm256_and_si256(_mm256_xor_si256(f, g), e), g); }
inline __m256i maj(__m256i a, __m256i b, __m256i c) {
  return _mm256_xor_si256(_mm256_and_si256(_mm256_xor_si256(a, b), _mm256_xor_si256(b, c)), b);
}

// r[i] = 32-bit word i of rows 0..7 (an 8x8 transpose of 32-bit elements).
inline void transpose8(__m256i r[8]) {
  const __m256i t0 = _mm256_unpacklo_epi32(r[0], r[1]), t1 = _mm256_unpackhi_epi32(r[0], r[1]);
  const __m256i t2 = _mm256_unpacklo_epi32(r[2], r[3]), t3 = _mm256_unpackhi_epi32(r[2], r[3]);
  const __m256i t4 = _mm256_unpacklo_epi32(r[4], r[5]), t5 = _mm256_unpackhi_epi32(r[4], r[5]);
  const __m256i t6 = _mm256_unpacklo_epi32(r[6], r[7]), t7 = _mm256_unpackhi_epi32(r[6], r[7]);
  const __m256i u0 = _mm256_unpacklo_epi64(t0, t2), u1 = _mm256_unpackhi_epi64(t0, t2);
  const __m256i u2 = _mm256_unpacklo_epi64(t1, t3), u3 = _mm256_unpackhi_epi64(t1, t3);
  const __m256i u4 = _mm256_unpacklo_epi64(t4, t6), u5 = _mm256_unpackhi_epi64(t4, t6);
  const __m256i u6 = _mm256_unpacklo_epi64(t5, t7), u7 = _mm256_unpackhi_epi64(t5, t7);
  r[0] = _mm256_permute2x128_si256(u0, u4, 0x20);
  r[1] = _mm256_permute2x128_si256(u1, u5, 0x20);
  r[2] = _mm256_permute2x128_si256(u2, u6, 0x20);
  r[3] = _mm256_permute2x128_si256(u3, u7, 0x20);
  r[4] = _mm256_permute2x128_si256(u0, u4, 0x31);
  r[5] = _mm256_permute2x128_si256(u1, u5, 0x31);
  r[6] = _mm256_permute2x128_si256(u2, u6, 0x31);
  r[7] = _mm256_permute2x128_si256(u3, u7, 0x31);
}

}  // namespace

void compress_avx2_x8(uint32_t* const* states, const uint8_t* const* data, size_t nblocks) {
  const __m256i bswap = _mm256_setr_epi8(3, 2, 1, 0, 7, 6, 5, 4, 11, 10, 9, 8, 15, 14, 13, 12,
                                         3, 2, 1, 0, 7, 6, 5, 4, 11, 10, 9, 8, 15, 14, 13, 12);
  // Working state, transposed: s[j] holds word j of every lane.
  __m256i s[8];
  for (int l = 0; l < 8; ++l) s[l] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(states[l]));
  transpose8(s);

  const uint8_t* p[8];
  for (int l = 0; l < 8; ++l) p[l] = data[l];

  for (size_t blk = 0; blk < nblocks; ++blk) {
    __m256i w[16];
    for (int half = 0; half < 2; ++half) {
      __m256i* r = w + 8 * half;
      for (int l = 0; l < 8; ++l) r[l] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p[l] + 32 * half));
      transpose8(r);
      for (int i = 0; i < 8; ++i) r[i] = _mm256_shuffle_epi8(r[i], bswap);
    }
    for (int l = 0; l < 8; ++l) p[l] += 64;

    __m256i a = s[0], b = s[1], c = s[2], d = s[3], e = s[4], f = s[5], g = s[6], h = s[7];
    // 64 rounds; the schedule is computed in place in a ring of 16 words. Unrolled so that the
    // variable rotation (h=g, g=f, ...) costs no moves.
#pragma GCC unroll 64
    for (int t = 0; t < 64; ++t) {
      if (t >= 16) {
        w[t & 15] = add(add(w[t & 15], small_sigma0(w[(t + 1) & 15])),
                        add(w[(t + 9) & 15], small_sigma1(w[(t + 14) & 15])));
      }
      const __m256i t1 = add(add(add(h, big_sigma1(e)), add(ch(e, f, g), _mm256_set1_epi32(static_cast<int>(K256[t])))),
                             w[t & 15]);
      const __m256i t2 = add(big_sigma0(a), maj(a, b, c));
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

  transpose8(s);  // back to one lane per register
  for (int l = 0; l < 8; ++l) _mm256_storeu_si256(reinterpret_cast<__m256i*>(states[l]), s[l]);
}

}  // namespace sha256
}  // namespace modelseal
