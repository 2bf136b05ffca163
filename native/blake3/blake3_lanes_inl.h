// The SIMD "many inputs" BLAKE3 algorithm, written once for every vector width. Included (only)
// by a kernel source file after it defines `struct Lanes`, the vector operations of its ISA:
//
//   using T = <vector of N 32-bit words>;  static constexpr size_t N;
//   T add(T, T); T xor_(T, T); T rot16(T); T rot12(T); T rot8(T); T rot7(T); T set1(uint32_t);
//   T load_words(const uint32_t* p);                           // N consecutive words
//   void load_msg(const uint8_t* const* in, size_t off, T m[16]);  // word w of lane i = in[i][off+4w]
//   void store_cvs(const T h[8], uint8_t* out);                // lane i's 8 words to out + 32 i
//
// Lane i holds input i; vector v[w] holds state word w of every lane, so a round is the scalar
// round with each word operation applied to N inputs at once. Everything here has internal
// linkage so that code compiled with one file's SIMD flags is never shared with another file.
#pragma once

#include "blake3_impl.h"

namespace modelseal {
namespace blake3 {
namespace {

template <class L>
inline void g_lanes(typename L::T& a, typename L::T& b, typename L::T& c, typename L::T& d, typename L::T x,
                    typename L::T y) {
  a = L::add(L::add(a, b), x);
  d = L::rot16(L::xor_(d, a));
  c = L::add(c, d);
  b = L::rot12(L::xor_(b, c));
  a = L::add(L::add(a, b), y);
  d = L::rot8(L::xor_(d, a));
  c = L::add(c, d);
  b = L::rot7(L::xor_(b, c));
}

template <class L>
inline void round_lanes(typename L::T v[16], const typename L::T m[16], int r) {
  const uint8_t* s = SCHEDULE.s[r];
  g_lanes<L>(v[0], v[4], v[8], v[12], m[s[0]], m[s[1]]);
  g_lanes<L>(v[1], v[5], v[9], v[13], m[s[2]], m[s[3]]);
  g_lanes<L>(v[2], v[6], v[10], v[14], m[s[4]], m[s[5]]);
  g_lanes<L>(v[3], v[7], v[11], v[15], m[s[6]], m[s[7]]);
  g_lanes<L>(v[0], v[5], v[10], v[15], m[s[8]], m[s[9]]);
  g_lanes<L>(v[1], v[6], v[11], v[12], m[s[10]], m[s[11]]);
  g_lanes<L>(v[2], v[7], v[8], v[13], m[s[12]], m[s[13]]);
  g_lanes<L>(v[3], v[4], v[9], v[14], m[s[14]], m[s[15]]);
}

// Hashes exactly L::N inputs of `blocks` full blocks each (see HashManyFn).
template <class L>
void hash_lanes(const uint8_t* const* inputs, size_t blocks, const uint32_t key[8], uint64_t counter,
                bool increment_counter, uint8_t flags, uint8_t flags_start, uint8_t flags_end, uint8_t* out) {
  using T = typename L::T;
  T h[8];
  for (int i = 0; i < 8; i++) h[i] = L::set1(key[i]);
  // Per-lane 64-bit counters, split into words; the carry into the high word is what makes a
  // batch that straddles 2^32 chunks correct.
  uint32_t lo[L::N], hi[L::N];
  for (size_t i = 0; i < L::N; i++) {
    const uint64_t c = counter + (increment_counter ? i : 0);
    lo[i] = static_cast<uint32_t>(c);
    hi[i] = static_cast<uint32_t>(c >> 32);
  }
  const T counter_lo = L::load_words(lo);
  const T counter_hi = L::load_words(hi);
  const T block_len = L::set1(static_cast<uint32_t>(BLOCK_LEN));
  uint8_t block_flags = flags | flags_start;
  for (size_t b = 0; b < blocks; b++) {
    if (b + 1 == blocks) block_flags |= flags_end;
    T m[16];
    L::load_msg(inputs, b * BLOCK_LEN, m);
    T v[16] = {h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7],
               L::set1(IV[0]), L::set1(IV[1]), L::set1(IV[2]), L::set1(IV[3]),
               counter_lo, counter_hi, block_len, L::set1(block_flags)};
    for (int r = 0; r < 7; r++) round_lanes<L>(v, m, r);
    for (int i = 0; i < 8; i++) h[i] = L::xor_(v[i], v[i + 8]);
    block_flags = flags;
  }
  L::store_cvs(h, out);
}

}  // namespace
}  // namespace blake3
}  // namespace modelseal
