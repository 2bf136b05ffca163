// SHA-256 with the Armv8 cryptography extension (SHA256H/H2/SU0/SU1; compiled with
// -march=armv8-a+crypto, dispatched only where the kernel reports HWCAP_SHA2). Like the SHA-NI
// kernel, one template serves 1 and 2 lanes: each SHA256H/SHA256H2 pair is a serial chain within
// one message, so two messages in lockstep fill the pipeline that one leaves idle.
//
// State layout: one register holds (a,b,c,d), the other (e,f,g,h), word a/e in lane 0. Each
// SHA256H + SHA256H2 pair does four rounds with W[t..t+3] + K[t..t+3].
#include <arm_neon.h>

#include "sha256_impl.h"

namespace modelseal {
namespace sha256 {

namespace {

template <int N>
inline void compress_armv8(uint32_t* const* states, const uint8_t* const* data, size_t nblocks) {
  uint32x4_t abcd[N], efgh[N];
  const uint8_t* p[N];
  for (int l = 0; l < N; ++l) {
    abcd[l] = vld1q_u32(states[l]);
    efgh[l] = vld1q_u32(states[l] + 4);
    p[l] = data[l];
  }
  for (size_t blk = 0; blk < nblocks; ++blk) {
    uint32x4_t save_abcd[N], save_efgh[N], m[N][4];
    for (int l = 0; l < N; ++l) {
      save_abcd[l] = abcd[l];
      save_efgh[l] = efgh[l];
      for (int i = 0; i < 4; ++i) m[l][i] = vreinterpretq_u32_u8(vrev32q_u8(vld1q_u8(p[l] + 16 * i)));  // big-endian words
      p[l] += 64;
    }
    // 16 groups of 4 rounds; for g >= 4 the ring slot of W[t-16..t-13] becomes W[t..t+3]:
    // SU0 adds σ0(W[t-15]), SU1 adds W[t-7] and σ1(W[t-2]).
#pragma GCC unroll 16
    for (int g = 0; g < 16; ++g) {
      const uint32x4_t k = vld1q_u32(K256 + 4 * g);
#pragma GCC unroll 2
      for (int l = 0; l < N; ++l) {
        if (g >= 4) {
          m[l][g & 3] = vsha256su1q_u32(vsha256su0q_u32(m[l][g & 3], m[l][(g + 1) & 3]), m[l][(g + 2) & 3], m[l][(g + 3) & 3]);
        }
        const uint32x4_t wk = vaddq_u32(m[l][g & 3], k);
        const uint32x4_t prev_abcd = abcd[l];
        abcd[l] = vsha256hq_u32(abcd[l], efgh[l], wk);
        efgh[l] = vsha256h2q_u32(efgh[l], prev_abcd, wk);
      }
    }
    for (int l = 0; l < N; ++l) {
      abcd[l] = vaddq_u32(abcd[l], save_abcd[l]);
      efgh[l] = vaddq_u32(efgh[l], save_efgh[l]);
    }
  }
  for (int l = 0; l < N; ++l) {
    vst1q_u32(states[l], abcd[l]);
    vst1q_u32(states[l] + 4, efgh[l]);
  }
}

}  // namespace

void compress_armv8_x1(uint32_t* const* states, const uint8_t* const* data, size_t nblocks) {
  compress_armv8<1>(states, data, nblocks);
}
void compress_armv8_x2(uint32_t* const* states, const uint8_t* const* data, size_t nblocks) {
  compress_armv8<2>(states, data, nblocks);
}

}  // namespace sha256
}  // namespace modelseal
