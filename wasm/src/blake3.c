/*
 * BLAKE3 (plain hash mode) for the modelseal WebAssembly backend.
 *
 * - hash4: four chunks (or four parent nodes) compressed at once, one input per u32 lane of each
 *   v128 ("transposed" state, the hash_many design of the BLAKE3 paper, section 5.3);
 * - compress_rows: one compression with the state held as four row vectors (tails and single
 *   parents);
 * - compress_scalar: the portable reference path, selectable for testing (blake3_set_kernel(1)).
 *
 * One incremental hasher (this module instance hashes one leaf at a time) with a 64-bit chunk
 * counter that starts at any value: a 'cv' leaf is the subtree starting at chunk `counter`, whose
 * chaining value is computed without the ROOT flag and merged by the caller in tree order.
 */
#include "common.h"

#define BLOCK_LEN 64u
#define CHUNK_LEN 1024u
#define MAX_SUBTREE_CHUNKS (MS_IO_BYTES / CHUNK_LEN)
#define MAX_DEPTH 54 /* 2^64 bytes / 1 KiB chunks: at most 54 subtrees on the stack */

enum { CHUNK_START = 1, CHUNK_END = 2, PARENT = 4, ROOT = 8 };

static const uint32_t IV[8] = {0x6A09E667, 0xBB67AE85, 0x3C6EF372, 0xA54FF53A,
                               0x510E527F, 0x9B05688C, 0x1F83D9AB, 0x5BE0CD19};

/* Message word order of each of the 7 rounds (the permutation applied 0..6 times). */
static const uint8_t SCHED[7][16] = {
    {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15},
    {2, 6, 3, 10, 7, 0, 4, 13, 1, 11, 12, 5, 9, 14, 15, 8},
    {3, 4, 10, 12, 13, 2, 7, 14, 6, 5, 9, 0, 11, 15, 8, 1},
    {10, 7, 12, 9, 14, 3, 13, 15, 4, 0, 11, 2, 5, 8, 1, 6},
    {12, 13, 9, 11, 15, 10, 14, 8, 7, 2, 5, 3, 0, 1, 6, 4},
    {9, 14, 11, 5, 8, 12, 15, 1, 13, 3, 0, 10, 2, 6, 4, 7},
    {11, 15, 5, 0, 1, 9, 8, 6, 14, 10, 2, 12, 3, 4, 7, 13},
};

static uint32_t kernel = MS_KERNEL_SIMD;

/* ---------------------------------------------------------------- scalar compression */

#define G(a, b, c, d, x, y)          \
  do {                               \
    a = a + b + (x);                 \
    d = rotr32(d ^ a, 16);           \
    c = c + d;                       \
    b = rotr32(b ^ c, 12);           \
    a = a + b + (y);                 \
    d = rotr32(d ^ a, 8);            \
    c = c + d;                       \
    b = rotr32(b ^ c, 7);            \
  } while (0)

static void compress_scalar(uint32_t cv[8], const uint8_t block[64], uint32_t block_len, uint64_t counter,
                            uint32_t flags) {
  uint32_t m[16];
  for (int i = 0; i < 16; i++) m[i] = load32_le(block + 4 * i);
  uint32_t v0 = cv[0], v1 = cv[1], v2 = cv[2], v3 = cv[3], v4 = cv[4], v5 = cv[5], v6 = cv[6], v7 = cv[7];
  uint32_t v8 = IV[0], v9 = IV[1], v10 = IV[2], v11 = IV[3];
  uint32_t v12 = (uint32_t)counter, v13 = (uint32_t)(counter >> 32), v14 = block_len, v15 = flags;
  for (int r = 0; r < 7; r++) {
    const uint8_t *s = SCHED[r];
    G(v0, v4, v8, v12, m[s[0]], m[s[1]]);
    G(v1, v5, v9, v13, m[s[2]], m[s[3]]);
    G(v2, v6, v10, v14, m[s[4]], m[s[5]]);
    G(v3, v7, v11, v15, m[s[6]], m[s[7]]);
    G(v0, v5, v10, v15, m[s[8]], m[s[9]]);
    G(v1, v6, v11, v12, m[s[10]], m[s[11]]);
    G(v2, v7, v8, v13, m[s[12]], m[s[13]]);
    G(v3, v4, v9, v14, m[s[14]], m[s[15]]);
  }
  cv[0] = v0 ^ v8; cv[1] = v1 ^ v9; cv[2] = v2 ^ v10; cv[3] = v3 ^ v11;
  cv[4] = v4 ^ v12; cv[5] = v5 ^ v13; cv[6] = v6 ^ v14; cv[7] = v7 ^ v15;
}

/* ---------------------------------------------------------------- SIMD128 helpers */

#define VADD(x, y) wasm_i32x4_add((x), (y))
#define VXOR(x, y) wasm_v128_xor((x), (y))
/* Rotations by 16 and 8 are byte moves (one shuffle); by 12 and 7 two shifts and an OR. */
#define VROT16(x) wasm_i8x16_shuffle((x), (x), 2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13)
#define VROT8(x) wasm_i8x16_shuffle((x), (x), 1, 2, 3, 0, 5, 6, 7, 4, 9, 10, 11, 8, 13, 14, 15, 12)
#define VROT12(x) wasm_v128_or(wasm_u32x4_shr((x), 12), wasm_i32x4_shl((x), 20))
#define VROT7(x) wasm_v128_or(wasm_u32x4_shr((x), 7), wasm_i32x4_shl((x), 25))

#define VG(a, b, c, d, x, y)          \
  do {                                \
    a = VADD(VADD(a, b), (x));        \
    d = VROT16(VXOR(d, a));           \
    c = VADD(c, d);                   \
    b = VROT12(VXOR(b, c));           \
    a = VADD(VADD(a, b), (y));        \
    d = VROT8(VXOR(d, a));            \
    c = VADD(c, d);                   \
    b = VROT7(VXOR(b, c));            \
  } while (0)

/* ---------------------------------------------------------------- one compression, rows in v128 */

static void compress_rows(uint32_t cv[8], const uint8_t block[64], uint32_t block_len, uint64_t counter,
                          uint32_t flags) {
  uint32_t m[16];
  for (int i = 0; i < 16; i++) m[i] = load32_le(block + 4 * i);
  v128_t r0 = wasm_v128_load(cv), r1 = wasm_v128_load(cv + 4);
  v128_t r2 = wasm_i32x4_make((int32_t)IV[0], (int32_t)IV[1], (int32_t)IV[2], (int32_t)IV[3]);
  v128_t r3 = wasm_i32x4_make((int32_t)(uint32_t)counter, (int32_t)(uint32_t)(counter >> 32), (int32_t)block_len,
                              (int32_t)flags);
  for (int r = 0; r < 7; r++) {
    const uint8_t *s = SCHED[r];
    v128_t mx = wasm_i32x4_make((int32_t)m[s[0]], (int32_t)m[s[2]], (int32_t)m[s[4]], (int32_t)m[s[6]]);
    v128_t my = wasm_i32x4_make((int32_t)m[s[1]], (int32_t)m[s[3]], (int32_t)m[s[5]], (int32_t)m[s[7]]);
    VG(r0, r1, r2, r3, mx, my);
    /* diagonals (0,5,10,15) (1,6,11,12) (2,7,8,13) (3,4,9,14) into columns */
    r1 = wasm_i32x4_shuffle(r1, r1, 1, 2, 3, 0);
    r2 = wasm_i32x4_shuffle(r2, r2, 2, 3, 0, 1);
    r3 = wasm_i32x4_shuffle(r3, r3, 3, 0, 1, 2);
    mx = wasm_i32x4_make((int32_t)m[s[8]], (int32_t)m[s[10]], (int32_t)m[s[12]], (int32_t)m[s[14]]);
    my = wasm_i32x4_make((int32_t)m[s[9]], (int32_t)m[s[11]], (int32_t)m[s[13]], (int32_t)m[s[15]]);
    VG(r0, r1, r2, r3, mx, my);
    r1 = wasm_i32x4_shuffle(r1, r1, 3, 0, 1, 2);
    r2 = wasm_i32x4_shuffle(r2, r2, 2, 3, 0, 1);
    r3 = wasm_i32x4_shuffle(r3, r3, 1, 2, 3, 0);
  }
  wasm_v128_store(cv, VXOR(r0, r2));
  wasm_v128_store(cv + 4, VXOR(r1, r3));
}

static inline void compress_one(uint32_t cv[8], const uint8_t block[64], uint32_t block_len, uint64_t counter,
                                uint32_t flags) {
  if (kernel == MS_KERNEL_SCALAR)
    compress_scalar(cv, block, block_len, counter, flags);
  else
    compress_rows(cv, block, block_len, counter, flags);
}

/* ---------------------------------------------------------------- four inputs, transposed */

/*
 * Hashes four inputs of `blocks` 64-byte blocks each (input i at base + i*stride) from the IV,
 * input i with counter `counter + i*inc`; the first block gets flags|fstart, the last flags|fend.
 * Writes the four 32-byte CVs to out[0..128).
 */
static void hash4(const uint8_t *base, size_t stride, size_t blocks, uint64_t counter, uint32_t inc,
                  uint32_t flags, uint32_t fstart, uint32_t fend, uint8_t *out) {
  v128_t h[8];
  for (int j = 0; j < 8; j++) h[j] = wasm_i32x4_splat((int32_t)IV[j]);
  /* per-lane 64-bit counters: the carry into the high word is per lane (crossing 2^32) */
  uint64_t c0 = counter, c1 = counter + inc, c2 = counter + 2 * (uint64_t)inc, c3 = counter + 3 * (uint64_t)inc;
  const v128_t ctr_lo = wasm_i32x4_make((int32_t)(uint32_t)c0, (int32_t)(uint32_t)c1, (int32_t)(uint32_t)c2,
                                        (int32_t)(uint32_t)c3);
  const v128_t ctr_hi = wasm_i32x4_make((int32_t)(uint32_t)(c0 >> 32), (int32_t)(uint32_t)(c1 >> 32),
                                        (int32_t)(uint32_t)(c2 >> 32), (int32_t)(uint32_t)(c3 >> 32));
  const uint8_t *in0 = base, *in1 = base + stride, *in2 = base + 2 * stride, *in3 = base + 3 * stride;
  for (size_t b = 0; b < blocks; b++) {
    uint32_t bf = flags | (b == 0 ? fstart : 0) | (b + 1 == blocks ? fend : 0);
    v128_t m[16];
    for (int q = 0; q < 4; q++) {
      v128_t a = wasm_v128_load(in0 + 64 * b + 16 * q), bb = wasm_v128_load(in1 + 64 * b + 16 * q);
      v128_t c = wasm_v128_load(in2 + 64 * b + 16 * q), d = wasm_v128_load(in3 + 64 * b + 16 * q);
      transpose4(&a, &bb, &c, &d);
      m[4 * q + 0] = a;
      m[4 * q + 1] = bb;
      m[4 * q + 2] = c;
      m[4 * q + 3] = d;
    }
    v128_t v0 = h[0], v1 = h[1], v2 = h[2], v3 = h[3], v4 = h[4], v5 = h[5], v6 = h[6], v7 = h[7];
    v128_t v8 = wasm_i32x4_splat((int32_t)IV[0]), v9 = wasm_i32x4_splat((int32_t)IV[1]);
    v128_t v10 = wasm_i32x4_splat((int32_t)IV[2]), v11 = wasm_i32x4_splat((int32_t)IV[3]);
    v128_t v12 = ctr_lo, v13 = ctr_hi, v14 = wasm_i32x4_splat((int32_t)BLOCK_LEN), v15 = wasm_i32x4_splat((int32_t)bf);
#pragma clang loop unroll(full)
    for (int r = 0; r < 7; r++) {
      const uint8_t *s = SCHED[r];
      VG(v0, v4, v8, v12, m[s[0]], m[s[1]]);
      VG(v1, v5, v9, v13, m[s[2]], m[s[3]]);
      VG(v2, v6, v10, v14, m[s[4]], m[s[5]]);
      VG(v3, v7, v11, v15, m[s[6]], m[s[7]]);
      VG(v0, v5, v10, v15, m[s[8]], m[s[9]]);
      VG(v1, v6, v11, v12, m[s[10]], m[s[11]]);
      VG(v2, v7, v8, v13, m[s[12]], m[s[13]]);
      VG(v3, v4, v9, v14, m[s[14]], m[s[15]]);
    }
    h[0] = VXOR(v0, v8); h[1] = VXOR(v1, v9); h[2] = VXOR(v2, v10); h[3] = VXOR(v3, v11);
    h[4] = VXOR(v4, v12); h[5] = VXOR(v5, v13); h[6] = VXOR(v6, v14); h[7] = VXOR(v7, v15);
  }
  transpose4(&h[0], &h[1], &h[2], &h[3]);
  transpose4(&h[4], &h[5], &h[6], &h[7]);
  for (int i = 0; i < 4; i++) {
    wasm_v128_store(out + 32 * i, h[i]);
    wasm_v128_store(out + 32 * i + 16, h[4 + i]);
  }
}

static void hash_one(const uint8_t *in, size_t blocks, uint64_t counter, uint32_t flags, uint32_t fstart,
                     uint32_t fend, uint8_t *out) {
  uint32_t cv[8];
  for (int j = 0; j < 8; j++) cv[j] = IV[j];
  for (size_t b = 0; b < blocks; b++) {
    uint32_t bf = flags | (b == 0 ? fstart : 0) | (b + 1 == blocks ? fend : 0);
    compress_one(cv, in + 64 * b, BLOCK_LEN, counter, bf);
  }
  for (int j = 0; j < 8; j++) store32_le(out + 4 * j, cv[j]);
}

/* n inputs of whole blocks at base + i*stride → n CVs at out (4 at a time where the kernel allows). */
static void hash_many(const uint8_t *base, size_t stride, size_t n, size_t blocks, uint64_t counter, uint32_t inc,
                      uint32_t flags, uint32_t fstart, uint32_t fend, uint8_t *out) {
  if (kernel != MS_KERNEL_SCALAR) {
    while (n >= 4) {
      hash4(base, stride, blocks, counter, inc, flags, fstart, fend, out);
      base += 4 * stride;
      counter += 4 * (uint64_t)inc;
      out += 128;
      n -= 4;
    }
  }
  while (n) {
    hash_one(base, blocks, counter, flags, fstart, fend, out);
    base += stride;
    counter += inc;
    out += 32;
    n--;
  }
}

/* Chunk and parent CVs of the subtree being reduced; each level halves in place of the other. */
static uint8_t cv_a[MAX_SUBTREE_CHUNKS * 32] __attribute__((aligned(16)));
static uint8_t cv_b[MAX_SUBTREE_CHUNKS / 2 * 32] __attribute__((aligned(16)));

/* CV (no ROOT) of the complete subtree of `nchunks` (a power of two) whole chunks starting at `counter`. */
static void subtree_cv(const uint8_t *in, size_t nchunks, uint64_t counter, uint8_t out[32]) {
  hash_many(in, CHUNK_LEN, nchunks, CHUNK_LEN / BLOCK_LEN, counter, 1, 0, CHUNK_START, CHUNK_END, cv_a);
  uint8_t *src = cv_a, *dst = cv_b;
  while (nchunks > 1) {
    nchunks /= 2;
    /* a parent's block is its two children's CVs, adjacent at the previous level */
    hash_many(src, 64, nchunks, 1, 0, 0, PARENT, 0, 0, dst);
    uint8_t *t = src;
    src = dst;
    dst = t;
  }
  ms_memcpy(out, src, 32);
}

/* ---------------------------------------------------------------- incremental hasher */

typedef struct {
  uint32_t cv[8];
  uint64_t counter;     /* absolute chunk counter of this chunk */
  uint8_t buf[64];      /* last (possibly partial) block, compressed only once more input arrives */
  uint32_t buf_len;
  uint32_t blocks_done; /* blocks already compressed into cv */
} chunk_state_t;

static struct {
  chunk_state_t chunk;
  uint64_t base_counter;               /* chunk counter of the leaf's first chunk */
  uint8_t stack[MAX_DEPTH * 32] __attribute__((aligned(16)));
  uint32_t stack_len;
} H;

static void chunk_reset(uint64_t counter) {
  for (int j = 0; j < 8; j++) H.chunk.cv[j] = IV[j];
  H.chunk.counter = counter;
  H.chunk.buf_len = 0;
  H.chunk.blocks_done = 0;
}

static inline uint32_t chunk_bytes(void) { return H.chunk.blocks_done * BLOCK_LEN + H.chunk.buf_len; }
static inline uint32_t chunk_start_flag(void) { return H.chunk.blocks_done == 0 ? CHUNK_START : 0; }

/* Absorbs len bytes (the chunk never exceeds 1024 bytes: the caller guarantees it). */
static void chunk_update(const uint8_t *p, size_t len) {
  chunk_state_t *c = &H.chunk;
  while (len) {
    if (c->buf_len == BLOCK_LEN) {
      compress_one(c->cv, c->buf, BLOCK_LEN, c->counter, chunk_start_flag());
      c->blocks_done++;
      c->buf_len = 0;
    }
    if (c->buf_len == 0) {
      /* whole blocks straight from the input, keeping the last one (it may end the chunk) */
      while (len > BLOCK_LEN) {
        compress_one(c->cv, p, BLOCK_LEN, c->counter, chunk_start_flag());
        c->blocks_done++;
        p += BLOCK_LEN;
        len -= BLOCK_LEN;
      }
    }
    size_t take = BLOCK_LEN - c->buf_len < len ? BLOCK_LEN - c->buf_len : len;
    ms_memcpy(c->buf + c->buf_len, p, take);
    c->buf_len += (uint32_t)take;
    p += take;
    len -= take;
  }
}

/* CV (or root output) of the current chunk, without changing the state. */
static void chunk_output(uint32_t root_flag, uint8_t out[32]) {
  uint32_t cv[8];
  uint8_t block[64];
  for (int j = 0; j < 8; j++) cv[j] = H.chunk.cv[j];
  ms_memset(block, 0, sizeof block);
  ms_memcpy(block, H.chunk.buf, H.chunk.buf_len);
  compress_one(cv, block, H.chunk.buf_len, H.chunk.counter, chunk_start_flag() | CHUNK_END | root_flag);
  for (int j = 0; j < 8; j++) store32_le(out + 4 * j, cv[j]);
}

/* out = CV of the parent whose 64-byte block (left CV || right CV) is at `block`. */
static void parent_output(const uint8_t block[64], uint32_t root_flag, uint8_t out[32]) {
  uint32_t cv[8];
  for (int j = 0; j < 8; j++) cv[j] = IV[j];
  compress_one(cv, block, BLOCK_LEN, 0, PARENT | root_flag);
  for (int j = 0; j < 8; j++) store32_le(out + 4 * j, cv[j]);
}

/*
 * Lazy merging: the stack holds the CVs of the complete subtrees before the current position.
 * Once `done` chunks (relative to the leaf start) are known not to be the end of the input, the
 * stack is merged down to popcount(done) entries, one per set bit of `done`. Merging is deferred
 * until then because the most recent subtree might still become a child of the root.
 */
static void merge_stack(uint64_t done) {
  uint32_t target = (uint32_t)__builtin_popcountll(done);
  while (H.stack_len > target) {
    uint8_t *pair = H.stack + 32 * (H.stack_len - 2); /* the two top CVs are adjacent: a parent block */
    parent_output(pair, 0, pair);
    H.stack_len--;
  }
}

static void push_cv(const uint8_t cv[32], uint64_t done_before) {
  merge_stack(done_before);
  ms_memcpy(H.stack + 32 * H.stack_len, cv, 32);
  H.stack_len++;
}

static inline uint64_t largest_pow2_le(uint64_t x) { return (uint64_t)1 << (63 - __builtin_clzll(x)); }

/* ---------------------------------------------------------------- exports */

/** 0 = SIMD128 (default), 1 = portable scalar (testing: every path against the same vectors). */
EXPORT(blake3_set_kernel) void blake3_set_kernel(uint32_t k) {
  kernel = k == MS_KERNEL_SCALAR ? MS_KERNEL_SCALAR : MS_KERNEL_SIMD;
}

/** Starts a leaf whose first chunk has the 64-bit counter hi:lo (0 for a plain digest). */
EXPORT(blake3_init) void blake3_init(uint32_t counter_lo, uint32_t counter_hi) {
  uint64_t counter = ((uint64_t)counter_hi << 32) | counter_lo;
  H.base_counter = counter;
  H.stack_len = 0;
  chunk_reset(counter);
}

/** Absorbs len bytes. */
EXPORT(blake3_update) void blake3_update(const uint8_t *p, uint32_t len) {
  /* 1. complete the current chunk; push it only if more input follows (it might be the last) */
  if (chunk_bytes() > 0) {
    uint32_t take = CHUNK_LEN - chunk_bytes();
    if (take > len) take = len;
    chunk_update(p, take);
    p += take;
    len -= take;
    if (len == 0) return;
    uint8_t cv[32];
    chunk_output(0, cv);
    push_cv(cv, H.chunk.counter - H.base_counter);
    chunk_reset(H.chunk.counter + 1);
  }
  /* 2. whole aligned subtrees, always leaving at least one byte for the chunk state, so that
   *    the last chunk of the input is finished by blake3_finalize (it may carry ROOT) */
  while (len > CHUNK_LEN) {
    uint64_t done = H.chunk.counter - H.base_counter;
    uint64_t n = largest_pow2_le((len - 1) / CHUNK_LEN);
    if (n > MAX_SUBTREE_CHUNKS) n = MAX_SUBTREE_CHUNKS;
    while (done & (n - 1)) n >>= 1; /* a subtree starts at a multiple of its size */
    uint8_t cv[32];
    subtree_cv(p, (size_t)n, H.chunk.counter, cv);
    push_cv(cv, done);
    chunk_reset(H.chunk.counter + n);
    p += n * CHUNK_LEN;
    len -= (uint32_t)(n * CHUNK_LEN);
  }
  /* 3. the rest (1..1024 bytes) starts a new chunk; the stack before it is now final */
  if (len) {
    chunk_update(p, len);
    merge_stack(H.chunk.counter - H.base_counter);
  }
}

/**
 * Writes the 32-byte result to out: with root=1 the BLAKE3 digest of everything absorbed; with
 * root=0 the chaining value of the subtree (no ROOT flag). Does not change the state.
 */
EXPORT(blake3_finalize) void blake3_finalize(uint8_t *out, uint32_t root) {
  uint32_t root_flag = root ? ROOT : 0;
  if (H.stack_len == 0) {
    chunk_output(root_flag, out);
    return;
  }
  uint8_t block[64];
  chunk_output(0, block + 32);
  for (uint32_t i = H.stack_len; i-- > 0;) {
    ms_memcpy(block, H.stack + 32 * i, 32);
    parent_output(block, i == 0 ? root_flag : 0, block + 32);
  }
  ms_memcpy(out, block + 32, 32);
}

/** out = parent of the CVs at block[0..32) (left) and block[32..64) (right); root=1 gives a digest. */
EXPORT(blake3_parent) void blake3_parent(const uint8_t *block, uint32_t root, uint8_t *out) {
  parent_output(block, root ? ROOT : 0, out);
}
