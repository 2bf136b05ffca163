// The portable BLAKE3 kernel: the readable reference every SIMD kernel is tested against.
#include "blake3_impl.h"

namespace modelseal {
namespace blake3 {

namespace {

inline uint32_t rotr(uint32_t x, int n) { return (x >> n) | (x << (32 - n)); }

inline void g(uint32_t* v, int a, int b, int c, int d, uint32_t x, uint32_t y) {
  v[a] = v[a] + v[b] + x;
  v[d] = rotr(v[d] ^ v[a], 16);
  v[c] = v[c] + v[d];
  v[b] = rotr(v[b] ^ v[c], 12);
  v[a] = v[a] + v[b] + y;
  v[d] = rotr(v[d] ^ v[a], 8);
  v[c] = v[c] + v[d];
  v[b] = rotr(v[b] ^ v[c], 7);
}

}  // namespace

void compress_portable(uint32_t cv[8], const uint8_t block[BLOCK_LEN], uint8_t block_len, uint64_t counter,
                       uint8_t flags) {
  uint32_t m[16];
  for (int i = 0; i < 16; i++) m[i] = load32_le(block + 4 * i);
  uint32_t v[16] = {cv[0], cv[1], cv[2], cv[3], cv[4], cv[5], cv[6], cv[7],
                    IV[0], IV[1], IV[2], IV[3], static_cast<uint32_t>(counter), static_cast<uint32_t>(counter >> 32),
                    block_len, flags};
  for (int r = 0; r < 7; r++) {
    const uint8_t* s = SCHEDULE.s[r];
    // Columns, then diagonals.
    g(v, 0, 4, 8, 12, m[s[0]], m[s[1]]);
    g(v, 1, 5, 9, 13, m[s[2]], m[s[3]]);
    g(v, 2, 6, 10, 14, m[s[4]], m[s[5]]);
    g(v, 3, 7, 11, 15, m[s[6]], m[s[7]]);
    g(v, 0, 5, 10, 15, m[s[8]], m[s[9]]);
    g(v, 1, 6, 11, 12, m[s[10]], m[s[11]]);
    g(v, 2, 7, 8, 13, m[s[12]], m[s[13]]);
    g(v, 3, 4, 9, 14, m[s[14]], m[s[15]]);
  }
  for (int i = 0; i < 8; i++) cv[i] = v[i] ^ v[i + 8];
}

void hash_many_portable(const uint8_t* const* inputs, size_t num_inputs, size_t blocks, const uint32_t key[8],
                        uint64_t counter, bool increment_counter, uint8_t flags, uint8_t flags_start,
                        uint8_t flags_end, uint8_t* out) {
  for (size_t i = 0; i < num_inputs; i++) {
    uint32_t cv[8];
    std::memcpy(cv, key, sizeof cv);
    const uint64_t ctr = counter + (increment_counter ? i : 0);
    for (size_t b = 0; b < blocks; b++) {
      uint8_t f = flags;
      if (b == 0) f |= flags_start;
      if (b + 1 == blocks) f |= flags_end;
      compress_portable(cv, inputs[i] + b * BLOCK_LEN, BLOCK_LEN, ctr, f);
    }
    cv_to_bytes(cv, out + OUT_LEN * i);
  }
}

}  // namespace blake3
}  // namespace modelseal
