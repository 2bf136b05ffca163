// SHA-256 compression kernels (FIPS 180-4 §6.2). Each kernel compresses whole 64-byte blocks into
// one or more independent states; padding, lengths and I/O live in sha256_lanes.h, so a kernel is
// only the round function and is tested against the portable one on the same inputs.
//
// Multi-buffer kernels take N states and N data pointers and advance every lane by the same number
// of blocks: SHA-256 is one serial dependency chain per message, so N independent messages in
// lockstep keep the SHA unit (SHA-NI) or the vector lanes (AVX2) busy where one message cannot.
#pragma once

#include <cstddef>
#include <cstdint>

namespace modelseal {
namespace sha256 {

// Round constants: the first 32 bits of the fractional parts of the cube roots of the first 64 primes.
extern const uint32_t K256[64];
// Initial hash value H(0): the first 32 bits of the fractional parts of the square roots of the first 8 primes.
extern const uint32_t IV256[8];

// states[i] points to 8 words (a..h); data[i] to nblocks * 64 readable bytes (any alignment).
using MultiFn = void (*)(uint32_t* const* states, const uint8_t* const* data, size_t nblocks);

// Copy-out kernels (verified reads, native/verified_units_napi.cc): the same compression as a MultiFn
// and, when `dst` is not null, every input block of lane i is stored to dst[i] (nblocks * 64
// writable bytes, any alignment) exactly as it was loaded for hashing. One load feeds the store and
// the hash, so the bytes stored are the bytes hashed even if data[] changes concurrently (a mapped
// file rewritten); the copy rides on loads the compute-bound SHA unit needs anyway.
using CopyFn = void (*)(uint32_t* const* states, const uint8_t* const* data, uint8_t* const* dst, size_t nblocks);

// Portable C++ (the reference the others are tested against). One lane.
void compress_scalar(uint32_t* const* states, const uint8_t* const* data, size_t nblocks);

#if defined(MODELSEAL_X86)
// SHA-NI (sha256rnds2/msg1/msg2 + SSE4.1), native/sha256/sha256_shani.cc. 1, 2 and 4 lanes.
void compress_shani_x1(uint32_t* const* states, const uint8_t* const* data, size_t nblocks);
void compress_shani_x2(uint32_t* const* states, const uint8_t* const* data, size_t nblocks);
void compress_shani_x4(uint32_t* const* states, const uint8_t* const* data, size_t nblocks);
// Copy-out variants of the 1- and 2-lane SHA-NI kernels (the widths verified reads pair units on).
void compress_shani_x1_copy(uint32_t* const* states, const uint8_t* const* data, uint8_t* const* dst, size_t nblocks);
void compress_shani_x2_copy(uint32_t* const* states, const uint8_t* const* data, uint8_t* const* dst, size_t nblocks);
// AVX2, 8 lanes with the message schedule transposed (one 32-bit word of each lane per ymm lane),
// native/sha256/sha256_avx2.cc.
void compress_avx2_x8(uint32_t* const* states, const uint8_t* const* data, size_t nblocks);
// AVX-512F, 16 lanes, same layout, native/sha256/sha256_avx512.cc.
void compress_avx512_x16(uint32_t* const* states, const uint8_t* const* data, size_t nblocks);
#endif

#if defined(__aarch64__)
// Armv8 cryptography extension (SHA256H/H2/SU0/SU1), native/sha256/sha256_armv8.cc. 1 and 2 lanes.
void compress_armv8_x1(uint32_t* const* states, const uint8_t* const* data, size_t nblocks);
void compress_armv8_x2(uint32_t* const* states, const uint8_t* const* data, size_t nblocks);
#endif

// The fastest one-lane kernel this CPU runs (SHA-NI or Armv8 SHA2, else scalar): how the vector families finish
// a lone lane, since one lane of an 8- or 16-wide kernel would waste the rest.
void compress_best_x1(uint32_t* const* states, const uint8_t* const* data, size_t nblocks);

// Most lanes any kernel has.
constexpr int kMaxKernelLanes = 16;

// A named kernel family as users force it ('scalar', 'shani', 'shani-x2', 'shani-x4', 'avx2-x8',
// 'avx512-x16', 'armv8-sha2', 'armv8-sha2-x2'). Every name exists on every architecture; a kernel
// not compiled for this one has null functions and is never runnable. `fns[i]` processes `widths[i]` lanes; widths are in descending order and end with
// 1, so a call whose lanes run dry finishes the remaining ones on a narrower kernel of the family.
// `pad_lanes` (vector families): when at least pad_threshold() lanes are active, they run on the
// narrowest width that holds them all, the unused lanes fed dummy data; fewer run one at a time on
// the one-lane kernel.
struct Kernel {
  const char* name;
  int n_widths;
  int widths[3];
  MultiFn fns[3];
  bool pad_lanes;
  // copy[i]: the copy-out variant of fns[i], or null (callers then copy with memcpy and hash the copy).
  CopyFn copy[3];
};

// Fewest active lanes for which a pad_lanes family still runs its vector kernel: 2 where the
// one-lane fallback is scalar, but 9 for 16 AVX-512 lanes where it is SHA-NI (measured on a Xeon:
// 16 lanes ≈ 2.1-2.6 GB/s in all, so 8 useful lanes ≈ one SHA-NI stream).
int pad_threshold(const Kernel& k);

// Kernels runnable on this CPU, best first (the first is the default).
int available_kernels(const Kernel** out, int max);
// The kernel of that name, or nullptr if unknown; *runnable says whether this CPU can run it.
const Kernel* find_kernel(const char* name, bool* runnable);
const Kernel& default_kernel();
// Why default_kernel() is the default on this CPU, in a sentence (printed by `modelseal doctor`).
const char* default_kernel_reason();

}  // namespace sha256
}  // namespace modelseal
