/*
 * Shared definitions of the modelseal WebAssembly module (wasm32 + SIMD128, no libc).
 *
 * Memory layout (all static, the memory never grows, so JS views on it stay valid):
 *   [stack 64 KiB][data: constants, hasher states][bss: IO buffer (4 MiB, 4096-aligned), CV scratch, params]
 * JS reads file ranges straight into the IO buffer (ms_io_buffer()) and passes pointers into it.
 */
#ifndef MODELSEAL_WASM_COMMON_H
#define MODELSEAL_WASM_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <wasm_simd128.h>

#define EXPORT(name) __attribute__((export_name(#name))) __attribute__((visibility("default")))

/* IO buffer: 4 MiB, split into 4 lanes of 1 MiB for multi-lane SHA-256. Page-aligned so that the
 * kernel's copy into it (fs.readSync) avoids the slow page-offset path (perf-anchors.md, section 1). */
#define MS_IO_BYTES (4u << 20)
#define MS_LANES 4u
#define MS_LANE_BYTES (MS_IO_BYTES / MS_LANES)

/* Kernel selection (testing and benchmarks): 0 = SIMD128 (default), 1 = portable scalar. */
#define MS_KERNEL_SIMD 0
#define MS_KERNEL_SCALAR 1

#define ms_memcpy(d, s, n) __builtin_memcpy((d), (s), (n))
#define ms_memset(d, v, n) __builtin_memset((d), (v), (n))

static inline uint32_t load32_le(const uint8_t *p) {
  uint32_t v;
  ms_memcpy(&v, p, 4);
  return v;
}

static inline void store32_le(uint8_t *p, uint32_t v) { ms_memcpy(p, &v, 4); }

static inline uint32_t load32_be(const uint8_t *p) {
  return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | (uint32_t)p[3];
}

static inline void store32_be(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)(v >> 24);
  p[1] = (uint8_t)(v >> 16);
  p[2] = (uint8_t)(v >> 8);
  p[3] = (uint8_t)v;
}

static inline uint32_t rotr32(uint32_t x, unsigned n) { return (x >> n) | (x << (32 - n)); }

/* 4x4 transpose of 32-bit words: row i of the result holds word i of each input row. */
static inline void transpose4(v128_t *a, v128_t *b, v128_t *c, v128_t *d) {
  v128_t ab_lo = wasm_i32x4_shuffle(*a, *b, 0, 4, 1, 5);
  v128_t ab_hi = wasm_i32x4_shuffle(*a, *b, 2, 6, 3, 7);
  v128_t cd_lo = wasm_i32x4_shuffle(*c, *d, 0, 4, 1, 5);
  v128_t cd_hi = wasm_i32x4_shuffle(*c, *d, 2, 6, 3, 7);
  *a = wasm_i64x2_shuffle(ab_lo, cd_lo, 0, 2);
  *b = wasm_i64x2_shuffle(ab_lo, cd_lo, 1, 3);
  *c = wasm_i64x2_shuffle(ab_hi, cd_hi, 0, 2);
  *d = wasm_i64x2_shuffle(ab_hi, cd_hi, 1, 3);
}

#endif
