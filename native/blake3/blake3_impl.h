// BLAKE3 internals shared by the kernels, the tree code and the binding.
//
// A kernel is two functions: `compress` (one 64-byte block into a chaining value, in place) and
// `hash_many` (the same sequence of full blocks for several independent inputs, one input per
// SIMD lane). Chunks of a subtree and parents of one tree level are all independent, so hash_many
// is where the time goes; compress only handles the odd partial chunk and the last few merges.
//
// Written from the BLAKE3 specification (https://github.com/BLAKE3-team/BLAKE3-specs); the split
// into compress / hash_many and one dispatch table follows the structure of the official C
// implementation (blake3_dispatch.c), without its code.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace modelseal {
namespace blake3 {

constexpr size_t BLOCK_LEN = 64;
constexpr size_t CHUNK_LEN = 1024;
constexpr size_t OUT_LEN = 32;
// Largest number of lanes any kernel has (AVX-512). Callers batch inputs in multiples of it.
constexpr size_t MAX_LANES = 16;

enum Flags : uint8_t {
  CHUNK_START = 1 << 0,
  CHUNK_END = 1 << 1,
  PARENT = 1 << 2,
  ROOT = 1 << 3,
};

// The IV is SHA-256's (the spec reuses it); it is also the key of the plain hash mode.
constexpr uint32_t IV[8] = {0x6A09E667u, 0xBB67AE85u, 0x3C6EF372u, 0xA54FF53Au,
                            0x510E527Fu, 0x9B05688Cu, 0x1F83D9ABu, 0x5BE0CD19u};

// Message word order of each of the 7 rounds: round r+1 reads the words of round r through the
// spec's fixed permutation. Generated here rather than typed in, so it cannot drift from the spec.
struct MsgSchedule {
  uint8_t s[7][16];
};
constexpr MsgSchedule make_schedule() {
  constexpr uint8_t PERM[16] = {2, 6, 3, 10, 7, 0, 4, 13, 1, 11, 12, 5, 9, 14, 15, 8};
  MsgSchedule m{};
  for (int i = 0; i < 16; i++) m.s[0][i] = static_cast<uint8_t>(i);
  for (int r = 1; r < 7; r++)
    for (int i = 0; i < 16; i++) m.s[r][i] = m.s[r - 1][PERM[i]];
  return m;
}
constexpr MsgSchedule SCHEDULE = make_schedule();

inline uint32_t load32_le(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8) |
         (static_cast<uint32_t>(p[2]) << 16) | (static_cast<uint32_t>(p[3]) << 24);
}
inline void store32_le(uint8_t* p, uint32_t w) {
  p[0] = static_cast<uint8_t>(w);
  p[1] = static_cast<uint8_t>(w >> 8);
  p[2] = static_cast<uint8_t>(w >> 16);
  p[3] = static_cast<uint8_t>(w >> 24);
}
inline void cv_to_bytes(const uint32_t cv[8], uint8_t out[32]) {
  for (int i = 0; i < 8; i++) store32_le(out + 4 * i, cv[i]);
}
inline void cv_from_bytes(const uint8_t in[32], uint32_t cv[8]) {
  for (int i = 0; i < 8; i++) cv[i] = load32_le(in + 4 * i);
}

// Compresses one block into `cv` (the first 8 output words, which is all a chaining value or a
// 32-byte root hash needs). `block_len` is the number of meaningful bytes; the block is zero-padded.
using CompressFn = void (*)(uint32_t cv[8], const uint8_t block[BLOCK_LEN], uint8_t block_len, uint64_t counter,
                            uint8_t flags);

// For each of `num_inputs` inputs of exactly `blocks` full blocks: start from `key`, compress the
// blocks in order (flags | flags_start on the first, flags | flags_end on the last), and write the
// 32-byte result to out + 32*i. Input i uses counter + i if `increment_counter` (chunks), else
// `counter` (parents, whose counter is always 0). Inputs need no alignment.
using HashManyFn = void (*)(const uint8_t* const* inputs, size_t num_inputs, size_t blocks, const uint32_t key[8],
                            uint64_t counter, bool increment_counter, uint8_t flags, uint8_t flags_start,
                            uint8_t flags_end, uint8_t* out);

// Copy-out hash_many (verified reads, native/verified_units_napi.cc): as HashManyFn, and each input
// i's blocks * BLOCK_LEN bytes are stored to dsts[i] exactly as they were loaded for hashing, so the
// bytes stored are the bytes hashed even if the inputs change concurrently (a mapped file rewritten).
using CopyManyFn = void (*)(const uint8_t* const* inputs, uint8_t* const* dsts, size_t num_inputs, size_t blocks,
                            const uint32_t key[8], uint64_t counter, bool increment_counter, uint8_t flags,
                            uint8_t flags_start, uint8_t flags_end, uint8_t* out);

struct Kernel {
  const char* name;
  size_t lanes;
  CompressFn compress;
  HashManyFn hash_many;
  // null where the kernel has no copy-out variant (callers copy with memcpy and hash the copy)
  CopyManyFn hash_many_copy;
};

// Each kernel's functions, defined in its own source file (compiled with its own SIMD flags).
void compress_portable(uint32_t cv[8], const uint8_t block[BLOCK_LEN], uint8_t block_len, uint64_t counter,
                       uint8_t flags);
void hash_many_portable(const uint8_t* const* inputs, size_t num_inputs, size_t blocks, const uint32_t key[8],
                        uint64_t counter, bool increment_counter, uint8_t flags, uint8_t flags_start,
                        uint8_t flags_end, uint8_t* out);
#if defined(MODELSEAL_X86)
void compress_sse41(uint32_t cv[8], const uint8_t block[BLOCK_LEN], uint8_t block_len, uint64_t counter,
                    uint8_t flags);
void hash_many_sse41(const uint8_t* const* inputs, size_t num_inputs, size_t blocks, const uint32_t key[8],
                     uint64_t counter, bool increment_counter, uint8_t flags, uint8_t flags_start,
                     uint8_t flags_end, uint8_t* out);
void hash_many_avx2(const uint8_t* const* inputs, size_t num_inputs, size_t blocks, const uint32_t key[8],
                    uint64_t counter, bool increment_counter, uint8_t flags, uint8_t flags_start,
                    uint8_t flags_end, uint8_t* out);
void hash_many_avx2_copy(const uint8_t* const* inputs, uint8_t* const* dsts, size_t num_inputs, size_t blocks,
                         const uint32_t key[8], uint64_t counter, bool increment_counter, uint8_t flags,
                         uint8_t flags_start, uint8_t flags_end, uint8_t* out);
void compress_avx512(uint32_t cv[8], const uint8_t block[BLOCK_LEN], uint8_t block_len, uint64_t counter,
                     uint8_t flags);
void hash_many_avx512(const uint8_t* const* inputs, size_t num_inputs, size_t blocks, const uint32_t key[8],
                      uint64_t counter, bool increment_counter, uint8_t flags, uint8_t flags_start,
                      uint8_t flags_end, uint8_t* out);
#endif

// Kernels runnable on this CPU, best first; the last is always 'portable'. Never empty.
const Kernel* const* runnable_kernels(size_t* count);
// The best runnable kernel.
const Kernel& default_kernel();
// A runnable kernel by name, or nullptr. `*known_name` tells an unknown name (a caller's typo)
// from a kernel this CPU or this build cannot run (e.g. 'avx512' here, or 'avx2' on arm64).
const Kernel* find_kernel(const char* name, bool* known_name);

}  // namespace blake3
}  // namespace modelseal
