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

// One half round: the G function on four independent (a, b, c, d) word quadruples, written step
// by step across the four so that the CPU always has four independent operations in flight.
template <class L>
inline void g4(typename L::T& a0, typename L::T& a1, typename L::T& a2, typename L::T& a3, typename L::T& b0,
               typename L::T& b1, typename L::T& b2, typename L::T& b3, typename L::T& c0, typename L::T& c1,
               typename L::T& c2, typename L::T& c3, typename L::T& d0, typename L::T& d1, typename L::T& d2,
               typename L::T& d3, typename L::T x0, typename L::T x1, typename L::T x2, typename L::T x3,
               typename L::T y0, typename L::T y1, typename L::T y2, typename L::T y3) {
  a0 = L::add(L::add(a0, x0), b0);
  a1 = L::add(L::add(a1, x1), b1);
  a2 = L::add(L::add(a2, x2), b2);
  a3 = L::add(L::add(a3, x3), b3);
  d0 = L::rot16(L::xor_(d0, a0));
  d1 = L::rot16(L::xor_(d1, a1));
  d2 = L::rot16(L::xor_(d2, a2));
  d3 = L::rot16(L::xor_(d3, a3));
  c0 = L::add(c0, d0);
  c1 = L::add(c1, d1);
  c2 = L::add(c2, d2);
  c3 = L::add(c3, d3);
  b0 = L::rot12(L::xor_(b0, c0));
  b1 = L::rot12(L::xor_(b1, c1));
  b2 = L::rot12(L::xor_(b2, c2));
  b3 = L::rot12(L::xor_(b3, c3));
  a0 = L::add(L::add(a0, y0), b0);
  a1 = L::add(L::add(a1, y1), b1);
  a2 = L::add(L::add(a2, y2), b2);
  a3 = L::add(L::add(a3, y3), b3);
  d0 = L::rot8(L::xor_(d0, a0));
  d1 = L::rot8(L::xor_(d1, a1));
  d2 = L::rot8(L::xor_(d2, a2));
  d3 = L::rot8(L::xor_(d3, a3));
  c0 = L::add(c0, d0);
  c1 = L::add(c1, d1);
  c2 = L::add(c2, d2);
  c3 = L::add(c3, d3);
  b0 = L::rot7(L::xor_(b0, c0));
  b1 = L::rot7(L::xor_(b1, c1));
  b2 = L::rot7(L::xor_(b2, c2));
  b3 = L::rot7(L::xor_(b3, c3));
}

// Round R (a template argument, so that every message index is a compile-time constant).
template <class L, int R>
inline void round_lanes(typename L::T v[16], const typename L::T m[16]) {
  constexpr const uint8_t* s = SCHEDULE.s[R];
  // Columns (0,4,8,12) .. (3,7,11,15).
  g4<L>(v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10], v[11], v[12], v[13], v[14], v[15],
        m[s[0]], m[s[2]], m[s[4]], m[s[6]], m[s[1]], m[s[3]], m[s[5]], m[s[7]]);
  // Diagonals (0,5,10,15), (1,6,11,12), (2,7,8,13), (3,4,9,14).
  g4<L>(v[0], v[1], v[2], v[3], v[5], v[6], v[7], v[4], v[10], v[11], v[8], v[9], v[15], v[12], v[13], v[14],
        m[s[8]], m[s[10]], m[s[12]], m[s[14]], m[s[9]], m[s[11]], m[s[13]], m[s[15]]);
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
    round_lanes<L, 0>(v, m);
    round_lanes<L, 1>(v, m);
    round_lanes<L, 2>(v, m);
    round_lanes<L, 3>(v, m);
    round_lanes<L, 4>(v, m);
    round_lanes<L, 5>(v, m);
    round_lanes<L, 6>(v, m);
    for (int i = 0; i < 8; i++) h[i] = L::xor_(v[i], v[i + 8]);
    block_flags = flags;
  }
  L::store_cvs(h, out);
}

}  // namespace
}  // namespace blake3
}  // namespace modelseal
