// The SIMD "many inputs" BLAKE3 algorithm, written once for every vector width. Included (only)
// by a kernel source file after it defines `struct Lanes`, the vector operations of its ISA:
//
//   using T = <vector of N 32-bit words>;  static constexpr size_t N;
//   T add(T, T); T xor_(T, T); T rot16(T); T rot12(T); T rot8(T); T rot7(T); T set1(uint32_t);
//   T load_words(const uint32_t* p);                           // N consecutive words
//   void load_msg(const uint8_t* const* in, size_t off, T m[16]);  // word w of lane i = in[i][off+4w]
//   void load_msg_copy(in, uint8_t* const* dst, off, m);       // the same, storing each lane's
//                                                              // block to dst[i] + off as loaded
//                                                              // (only kernels with a copy-out variant)
//   void store_cvs(const T h[8], uint8_t* out);                // lane i's 8 words to out + 32 i
//   void prefetch(const uint8_t* p);                           // a hint, for the next group
//
// Lane i holds input i; vector v[w] holds state word w of every lane, so a round is the scalar
// round with each word operation applied to N inputs at once. Everything here has internal
// linkage so that code compiled with one file's SIMD flags is never shared with another file.
#pragma once

#include "blake3_impl.h"

namespace modelseal {
namespace blake3 {
namespace {

// The G function on one (a, b, c, d) quadruple of state vectors.
template <class L>
inline void g_lanes(typename L::T& a, typename L::T& b, typename L::T& c, typename L::T& d, typename L::T x,
                    typename L::T y) {
  a = L::add(L::add(a, x), b);
  d = L::rot16(L::xor_(d, a));
  c = L::add(c, d);
  b = L::rot12(L::xor_(b, c));
  a = L::add(L::add(a, y), b);
  d = L::rot8(L::xor_(d, a));
  c = L::add(c, d);
  b = L::rot7(L::xor_(b, c));
}

// Round R (a template argument, so that every message index is a compile-time constant). The
// four G of a half round are written one after the other, not interleaved step by step: the
// out-of-order core overlaps them anyway, and with GCC 12 the interleaved form (more values live
// at once) spilled state on the critical path and ran about 25% slower (measured, 8-lane AVX2).
// The state is 16 separate variables rather than an array so that nothing forces it to memory.
template <class L, int R>
inline void round_lanes(typename L::T& v0, typename L::T& v1, typename L::T& v2, typename L::T& v3,
                        typename L::T& v4, typename L::T& v5, typename L::T& v6, typename L::T& v7,
                        typename L::T& v8, typename L::T& v9, typename L::T& v10, typename L::T& v11,
                        typename L::T& v12, typename L::T& v13, typename L::T& v14, typename L::T& v15,
                        const typename L::T m[16]) {
  constexpr const uint8_t* s = SCHEDULE.s[R];
  // Columns.
  g_lanes<L>(v0, v4, v8, v12, m[s[0]], m[s[1]]);
  g_lanes<L>(v1, v5, v9, v13, m[s[2]], m[s[3]]);
  g_lanes<L>(v2, v6, v10, v14, m[s[4]], m[s[5]]);
  g_lanes<L>(v3, v7, v11, v15, m[s[6]], m[s[7]]);
  // Diagonals.
  g_lanes<L>(v0, v5, v10, v15, m[s[8]], m[s[9]]);
  g_lanes<L>(v1, v6, v11, v12, m[s[10]], m[s[11]]);
  g_lanes<L>(v2, v7, v8, v13, m[s[12]], m[s[13]]);
  g_lanes<L>(v3, v4, v9, v14, m[s[14]], m[s[15]]);
}

// Hashes exactly L::N inputs of `blocks` full blocks each (see HashManyFn). `next`, if not null,
// are the N inputs of the following call: while block b of this group is hashed, block b of each
// next input is prefetched, so that the next group's data (8-16 KiB of chunks) is in L1 when its
// turn comes. Hashing straight from the page cache or a big buffer is memory-latency bound without.
// Copy: block b of input i is also stored to dsts[i] + b * BLOCK_LEN, from the registers it was
// loaded into for hashing (copy-out kernels, CopyManyFn).
template <class L, bool Copy = false>
void hash_lanes(const uint8_t* const* inputs, const uint8_t* const* next, size_t blocks, const uint32_t key[8],
                uint64_t counter, bool increment_counter, uint8_t flags, uint8_t flags_start, uint8_t flags_end,
                uint8_t* out, uint8_t* const* dsts = nullptr) {
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
    if (next)
      for (size_t i = 0; i < L::N; i++) L::prefetch(next[i] + b * BLOCK_LEN);
    T m[16];
    if constexpr (Copy)
      L::load_msg_copy(inputs, dsts, b * BLOCK_LEN, m);
    else
      L::load_msg(inputs, b * BLOCK_LEN, m);
    T v0 = h[0], v1 = h[1], v2 = h[2], v3 = h[3], v4 = h[4], v5 = h[5], v6 = h[6], v7 = h[7];
    T v8 = L::set1(IV[0]), v9 = L::set1(IV[1]), v10 = L::set1(IV[2]), v11 = L::set1(IV[3]);
    T v12 = counter_lo, v13 = counter_hi, v14 = block_len, v15 = L::set1(block_flags);
    round_lanes<L, 0>(v0, v1, v2, v3, v4, v5, v6, v7, v8, v9, v10, v11, v12, v13, v14, v15, m);
    round_lanes<L, 1>(v0, v1, v2, v3, v4, v5, v6, v7, v8, v9, v10, v11, v12, v13, v14, v15, m);
    round_lanes<L, 2>(v0, v1, v2, v3, v4, v5, v6, v7, v8, v9, v10, v11, v12, v13, v14, v15, m);
    round_lanes<L, 3>(v0, v1, v2, v3, v4, v5, v6, v7, v8, v9, v10, v11, v12, v13, v14, v15, m);
    round_lanes<L, 4>(v0, v1, v2, v3, v4, v5, v6, v7, v8, v9, v10, v11, v12, v13, v14, v15, m);
    round_lanes<L, 5>(v0, v1, v2, v3, v4, v5, v6, v7, v8, v9, v10, v11, v12, v13, v14, v15, m);
    round_lanes<L, 6>(v0, v1, v2, v3, v4, v5, v6, v7, v8, v9, v10, v11, v12, v13, v14, v15, m);
    h[0] = L::xor_(v0, v8);
    h[1] = L::xor_(v1, v9);
    h[2] = L::xor_(v2, v10);
    h[3] = L::xor_(v3, v11);
    h[4] = L::xor_(v4, v12);
    h[5] = L::xor_(v5, v13);
    h[6] = L::xor_(v6, v14);
    h[7] = L::xor_(v7, v15);
    block_flags = flags;
  }
  L::store_cvs(h, out);
}

}  // namespace
}  // namespace blake3
}  // namespace modelseal
