/*
 * SHA-256 (FIPS 180-4) for the modelseal WebAssembly backend.
 *
 * Two kernels over the same lane states:
 *  - scalar: one message at a time (wasm has a native i32.rotr, so this is a plain, fast loop);
 *  - x4: four independent messages in the four u32 lanes of each v128 (multi-buffer). SHA-256 has
 *    one serial dependency chain per message, so the only way to use SIMD128 for it is across
 *    messages: every lane runs the same round on its own message.
 *
 * Lane state is stored word-major (h[word][lane]) so that the x4 kernel loads one v128 per state
 * word, and the scalar kernel reads a column.
 */
#include "common.h"

static const uint32_t K[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static const uint32_t H0[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                               0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};

typedef struct {
  uint32_t h[8][MS_LANES];
  uint64_t total[MS_LANES];     /* bytes absorbed, for the length padding */
  uint8_t buf[MS_LANES][64];    /* partial block (only ever non-empty at the end of a message) */
  uint32_t buf_len[MS_LANES];
} sha256_lanes_t;

static sha256_lanes_t S;

/* ---------------------------------------------------------------- scalar kernel */

#define CH(e, f, g) ((((f) ^ (g)) & (e)) ^ (g))
/* Maj in three operations; a ^ b of one round is b ^ c of the next, so the compiler reuses it. */
#define MAJ(a, b, c) ((((a) ^ (b)) & ((b) ^ (c))) ^ (b))
/* Nested form: 3 rotations and 2 XORs without copies of the input (fewer x86 register moves). */
#define BS0(a) rotr32(rotr32(rotr32((a), 9) ^ (a), 11) ^ (a), 2)
#define BS1(e) rotr32(rotr32(rotr32((e), 14) ^ (e), 5) ^ (e), 6)

/* One round; wk[i] = W[i] + K[i], precomputed by the SIMD message schedule. */
#define RND(a, b, c, d, e, f, g, h, i)                        \
  do {                                                        \
    uint32_t t1 = (h) + BS1(e) + CH(e, f, g) + wk[i];         \
    (d) += t1;                                                \
    (h) = t1 + BS0(a) + MAJ(a, b, c);                         \
  } while (0)

/* Eight rounds with the variables rotated by name instead of moved. */
#define RND8(i)                            \
  RND(a, b, c, d, e, f, g, h, (i) + 0);    \
  RND(h, a, b, c, d, e, f, g, (i) + 1);    \
  RND(g, h, a, b, c, d, e, f, (i) + 2);    \
  RND(f, g, h, a, b, c, d, e, (i) + 3);    \
  RND(e, f, g, h, a, b, c, d, (i) + 4);    \
  RND(d, e, f, g, h, a, b, c, (i) + 5);    \
  RND(c, d, e, f, g, h, a, b, (i) + 6);    \
  RND(b, c, d, e, f, g, h, a, (i) + 7)

static inline v128_t load_be4(const uint8_t *p) {
  v128_t v = wasm_v128_load(p);
  return wasm_i8x16_shuffle(v, v, 3, 2, 1, 0, 7, 6, 5, 4, 11, 10, 9, 8, 15, 14, 13, 12);
}

/* No rotate in SIMD128: a right rotation is two shifts and an OR. */
#define VROTR(x, n) wasm_v128_or(wasm_u32x4_shr((x), (n)), wasm_i32x4_shl((x), 32 - (n)))
#define VADD(x, y) wasm_i32x4_add((x), (y))
#define VXOR(x, y) wasm_v128_xor((x), (y))
#define VSS0(x) VXOR(VXOR(VROTR(x, 7), VROTR(x, 18)), wasm_u32x4_shr((x), 3))
#define VSS1(x) VXOR(VXOR(VROTR(x, 17), VROTR(x, 19)), wasm_u32x4_shr((x), 10))

/*
 * Message schedule of one block, four words at a time in SIMD128, written as W[t] + K[t]. The
 * rounds then read one precomputed word each, which leaves the registers to the 8 state words:
 * that, not the schedule arithmetic, is what the scalar rounds are short of.
 */
static inline void sha256_schedule(const uint8_t *p, uint32_t wk[64]) {
  v128_t x0 = load_be4(p), x1 = load_be4(p + 16), x2 = load_be4(p + 32), x3 = load_be4(p + 48);
  wasm_v128_store(wk + 0, VADD(x0, wasm_v128_load(K + 0)));
  wasm_v128_store(wk + 4, VADD(x1, wasm_v128_load(K + 4)));
  wasm_v128_store(wk + 8, VADD(x2, wasm_v128_load(K + 8)));
  wasm_v128_store(wk + 12, VADD(x3, wasm_v128_load(K + 12)));
  for (int t = 16; t < 64; t += 4) {
    /* x0..x3 hold W[t-16 .. t-1] */
    v128_t w15 = wasm_i32x4_shuffle(x0, x1, 1, 2, 3, 4); /* W[t-15 .. t-12] */
    v128_t w7 = wasm_i32x4_shuffle(x2, x3, 1, 2, 3, 4);  /* W[t-7 .. t-4] */
    v128_t s = VADD(VADD(x0, VSS0(w15)), w7);
    /* sigma1 needs W[t-2], W[t-1] for lanes 0-1, then the new W[t], W[t+1] for lanes 2-3 */
    v128_t lo = VADD(s, VSS1(wasm_i32x4_shuffle(x3, x3, 2, 3, 2, 3)));
    v128_t hi = VADD(s, VSS1(wasm_i32x4_shuffle(lo, lo, 0, 1, 0, 1)));
    v128_t xn = wasm_i32x4_shuffle(lo, hi, 0, 1, 6, 7);
    wasm_v128_store(wk + t, VADD(xn, wasm_v128_load(K + t)));
    x0 = x1;
    x1 = x2;
    x2 = x3;
    x3 = xn;
  }
}

static void sha256_blocks_scalar(unsigned lane, const uint8_t *p, size_t nblocks) {
  uint32_t st[8];
  uint32_t wk[64] __attribute__((aligned(16)));
  for (int j = 0; j < 8; j++) st[j] = S.h[j][lane];
  while (nblocks--) {
    sha256_schedule(p, wk);
    uint32_t a = st[0], b = st[1], c = st[2], d = st[3], e = st[4], f = st[5], g = st[6], h = st[7];
    RND8(0);
    RND8(8);
    RND8(16);
    RND8(24);
    RND8(32);
    RND8(40);
    RND8(48);
    RND8(56);
    st[0] += a; st[1] += b; st[2] += c; st[3] += d;
    st[4] += e; st[5] += f; st[6] += g; st[7] += h;
    p += 64;
  }
  for (int j = 0; j < 8; j++) S.h[j][lane] = st[j];
}

/* ---------------------------------------------------------------- x4 (SIMD128) kernel */

#define VBS0(a) VXOR(VXOR(VROTR(a, 2), VROTR(a, 13)), VROTR(a, 22))
#define VBS1(e) VXOR(VXOR(VROTR(e, 6), VROTR(e, 11)), VROTR(e, 25))
/* Ch(e,f,g) selects f where e is 1: exactly bitselect. Maj(a,b,c) = b where a == b, else c. */
#define VCH(e, f, g) wasm_v128_bitselect((f), (g), (e))
#define VMAJ(a, b, c) wasm_v128_bitselect((c), (b), VXOR((a), (b)))

#define VRND(a, b, c, d, e, f, g, h, i, wi)                                                  \
  do {                                                                                       \
    v128_t t1 = VADD(VADD(VADD(h, VBS1(e)), VADD(VCH(e, f, g), wasm_i32x4_splat(K[i]))), (wi)); \
    v128_t t2 = VADD(VBS0(a), VMAJ(a, b, c));                                                \
    (d) = VADD((d), t1);                                                                     \
    (h) = VADD(t1, t2);                                                                      \
  } while (0)

#define VSCHED(i) \
  (w[(i) & 15] = VADD(VADD(w[(i) & 15], VSS1(w[((i) - 2) & 15])), VADD(w[((i) - 7) & 15], VSS0(w[((i) - 15) & 15]))))

#define VRND8(i, W)                                  \
  VRND(a, b, c, d, e, f, g, h, (i) + 0, W((i) + 0)); \
  VRND(h, a, b, c, d, e, f, g, (i) + 1, W((i) + 1)); \
  VRND(g, h, a, b, c, d, e, f, (i) + 2, W((i) + 2)); \
  VRND(f, g, h, a, b, c, d, e, (i) + 3, W((i) + 3)); \
  VRND(e, f, g, h, a, b, c, d, (i) + 4, W((i) + 4)); \
  VRND(d, e, f, g, h, a, b, c, (i) + 5, W((i) + 5)); \
  VRND(c, d, e, f, g, h, a, b, (i) + 6, W((i) + 6)); \
  VRND(b, c, d, e, f, g, h, a, (i) + 7, W((i) + 7))

#define WLOAD(i) w[(i)]
#define VWSCHED(i) VSCHED(i)

static void sha256_blocks_x4(const uint8_t *p0, const uint8_t *p1, const uint8_t *p2, const uint8_t *p3,
                             size_t nblocks) {
  v128_t st[8];
  for (int j = 0; j < 8; j++) st[j] = wasm_v128_load(&S.h[j][0]);
  while (nblocks--) {
    v128_t w[16];
    for (int q = 0; q < 4; q++) {
      /* words 4q..4q+3 of each lane's block, transposed into one v128 per word */
      v128_t r0 = load_be4(p0 + 16 * q), r1 = load_be4(p1 + 16 * q);
      v128_t r2 = load_be4(p2 + 16 * q), r3 = load_be4(p3 + 16 * q);
      transpose4(&r0, &r1, &r2, &r3);
      w[4 * q + 0] = r0;
      w[4 * q + 1] = r1;
      w[4 * q + 2] = r2;
      w[4 * q + 3] = r3;
    }
    v128_t a = st[0], b = st[1], c = st[2], d = st[3], e = st[4], f = st[5], g = st[6], h = st[7];
    VRND8(0, WLOAD);
    VRND8(8, WLOAD);
    VRND8(16, VWSCHED);
    VRND8(24, VWSCHED);
    VRND8(32, VWSCHED);
    VRND8(40, VWSCHED);
    VRND8(48, VWSCHED);
    VRND8(56, VWSCHED);
    st[0] = VADD(st[0], a); st[1] = VADD(st[1], b); st[2] = VADD(st[2], c); st[3] = VADD(st[3], d);
    st[4] = VADD(st[4], e); st[5] = VADD(st[5], f); st[6] = VADD(st[6], g); st[7] = VADD(st[7], h);
    p0 += 64; p1 += 64; p2 += 64; p3 += 64;
  }
  for (int j = 0; j < 8; j++) wasm_v128_store(&S.h[j][0], st[j]);
}

/* ---------------------------------------------------------------- exports */

/** Starts a new message in `lane`. */
EXPORT(sha256_init) void sha256_init(uint32_t lane) {
  if (lane >= MS_LANES) return;
  for (int j = 0; j < 8; j++) S.h[j][lane] = H0[j];
  S.total[lane] = 0;
  S.buf_len[lane] = 0;
}

/** Absorbs `len` bytes into `lane` with the scalar kernel (any length, buffers a partial block). */
EXPORT(sha256_update) void sha256_update(uint32_t lane, const uint8_t *p, uint32_t len) {
  if (lane >= MS_LANES) return;
  S.total[lane] += len;
  uint32_t bl = S.buf_len[lane];
  if (bl) {
    uint32_t take = 64 - bl < len ? 64 - bl : len;
    ms_memcpy(S.buf[lane] + bl, p, take);
    bl += take;
    p += take;
    len -= take;
    if (bl < 64) {
      S.buf_len[lane] = bl;
      return;
    }
    sha256_blocks_scalar(lane, S.buf[lane], 1);
    bl = 0;
  }
  if (len >= 64) {
    sha256_blocks_scalar(lane, p, len / 64);
    p += len & ~63u;
    len &= 63;
  }
  ms_memcpy(S.buf[lane], p, len);
  S.buf_len[lane] = len;
}

/**
 * Absorbs `nblocks` whole 64-byte blocks into all four lanes at once, lane i from pointer pi.
 * Precondition: no lane holds a partial block (returns 1 and does nothing otherwise). A lane with
 * no message of its own may be given any readable pointer; its state is reset by sha256_init.
 */
EXPORT(sha256_update_x4)
uint32_t sha256_update_x4(const uint8_t *p0, const uint8_t *p1, const uint8_t *p2, const uint8_t *p3,
                          uint32_t nblocks) {
  for (unsigned l = 0; l < MS_LANES; l++) {
    if (S.buf_len[l]) return 1;
  }
  sha256_blocks_x4(p0, p1, p2, p3, nblocks);
  for (unsigned l = 0; l < MS_LANES; l++) S.total[l] += (uint64_t)nblocks * 64;
  return 0;
}

/** Pads, writes the 32-byte digest of `lane` to `out` and resets the lane. */
EXPORT(sha256_final) void sha256_final(uint32_t lane, uint8_t *out) {
  if (lane >= MS_LANES) return;
  uint8_t *buf = S.buf[lane];
  uint32_t bl = S.buf_len[lane];
  uint64_t bits = S.total[lane] * 8;
  buf[bl++] = 0x80;
  if (bl > 56) {
    ms_memset(buf + bl, 0, 64 - bl);
    sha256_blocks_scalar(lane, buf, 1);
    bl = 0;
  }
  ms_memset(buf + bl, 0, 56 - bl);
  store32_be(buf + 56, (uint32_t)(bits >> 32));
  store32_be(buf + 60, (uint32_t)bits);
  sha256_blocks_scalar(lane, buf, 1);
  for (int j = 0; j < 8; j++) store32_be(out + 4 * j, S.h[j][lane]);
  sha256_init(lane);
}
