#include "sha256_merkle.h"

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "io.h"
#include "progress.h"

namespace modelseal {
namespace sha256 {

namespace {

// One SHA-256 message fed incrementally: whole blocks are compressed straight from the caller's
// memory, and only a partial block (< 64 bytes) is carried to the next piece.
struct Stream {
  alignas(16) uint32_t state[8];
  alignas(16) uint8_t carry[128];
  size_t r = 0;        // carried bytes
  uint64_t total = 0;  // message bytes so far

  void init() {
    std::memcpy(state, IV256, sizeof state);
    r = 0;
    total = 0;
  }
};

struct Fns {
  MultiFn x1;
  MultiFn x2;  // null when the family has no 2-lane kernel
  CopyFn x1c;  // copy-out variants, null where the family has none
  CopyFn x2c;
};

Fns fns_of(const Kernel& k) {
  Fns f{k.fns[k.n_widths - 1], nullptr, k.copy[k.n_widths - 1], nullptr};
  for (int j = 0; j < k.n_widths; ++j)
    if (k.widths[j] == 2 && k.fns[j]) {
      f.x2 = k.fns[j];
      f.x2c = k.copy[j];
    }
  return f;
}

void compress1(const Fns& f, Stream& s, const uint8_t* p, size_t nblocks) {
  if (nblocks == 0) return;
  uint32_t* st[1] = {s.state};
  const uint8_t* d[1] = {p};
  f.x1(st, d, nblocks);
}

// Completes a carried partial block from p; returns the bytes taken.
size_t top_up(const Fns& f, Stream& s, const uint8_t* p, size_t n) {
  if (s.r == 0) return 0;
  const size_t take = std::min(64 - s.r, n);
  std::memcpy(s.carry + s.r, p, take);
  s.r += take;
  if (s.r == 64) {
    compress1(f, s, s.carry, 1);
    s.r = 0;
  }
  return take;
}

// Feeds p[0, n) to `a` and, if not null, to `b`: the two streams' whole blocks in lockstep on the
// 2-lane kernel, the rest of the longer one alone.
void feed(const Fns& f, Stream& a, Stream* b, const uint8_t* p, size_t n) {
  const size_t ua = top_up(f, a, p, n);
  const size_t ub = b ? top_up(f, *b, p, n) : n;
  // a stream whose carry is still partial took all n bytes (top_up), so it has no whole blocks
  const size_t na = (n - ua) / 64;
  const size_t nb = b ? (n - ub) / 64 : 0;
  size_t both = 0;
  if (b && f.x2) {
    both = std::min(na, nb);
    if (both > 0) {
      uint32_t* st[2] = {a.state, b->state};
      const uint8_t* d[2] = {p + ua, p + ub};
      f.x2(st, d, both);
    }
  }
  compress1(f, a, p + ua + 64 * both, na - both);
  if (b) compress1(f, *b, p + ub + 64 * both, nb - both);
  const size_t ra = (n - ua) % 64;
  std::memcpy(a.carry + a.r, p + n - ra, ra);
  a.r += ra;
  a.total += n;
  if (b) {
    const size_t rb = (n - ub) % 64;
    std::memcpy(b->carry + b->r, p + n - rb, rb);
    b->r += rb;
    b->total += n;
  }
}

// Padding (FIPS 180-4 §5.1.1) and the big-endian digest.
void finish(const Fns& f, Stream& s, uint8_t* out) {
  const uint64_t bits = s.total * 8;
  std::memset(s.carry + s.r, 0, sizeof s.carry - s.r);
  s.carry[s.r] = 0x80;
  const size_t blocks = (s.r + 9 <= 64) ? 1 : 2;
  for (int i = 0; i < 8; ++i) s.carry[64 * blocks - 8 + i] = static_cast<uint8_t>(bits >> (56 - 8 * i));
  compress1(f, s, s.carry, blocks);
  for (int i = 0; i < 8; ++i) {
    out[4 * i] = static_cast<uint8_t>(s.state[i] >> 24);
    out[4 * i + 1] = static_cast<uint8_t>(s.state[i] >> 16);
    out[4 * i + 2] = static_cast<uint8_t>(s.state[i] >> 8);
    out[4 * i + 3] = static_cast<uint8_t>(s.state[i]);
  }
}

// An RFC 9162 leaf message starts with the byte 0x00.
void start_leaf(Stream& s) {
  s.init();
  s.carry[0] = 0x00;
  s.r = 1;
  s.total = 1;
}

// Walks [begin, end) in pieces that never cross a leaf edge, calling read(ptr_dst_or_src, pos, len)
// to obtain each piece, and feeds range and leaf streams.
template <class Read>
void walk(const Fns& f, uint64_t begin, uint64_t end, uint64_t leaf_bytes, uint64_t leaf_first, uint64_t leaf_count,
          size_t piece_bytes, uint8_t* digest, uint8_t* leaf_hashes, Read&& read) {
  if (leaf_bytes == 0) throw std::invalid_argument("leaf size must be positive");
  if (leaf_count > 0) {
    const uint64_t lo = leaf_first * leaf_bytes;
    const uint64_t last = (leaf_first + leaf_count - 1) * leaf_bytes;
    if (leaf_first > UINT64_MAX / leaf_bytes || lo < begin || last >= end)
      throw std::invalid_argument("Merkle leaves must lie inside their range");
  }
  Stream whole;
  whole.init();
  Stream leaf;
  uint64_t pos = begin;
  while (pos < end) {
    const uint64_t i = pos / leaf_bytes;
    const bool carried = leaf_count > 0 && i >= leaf_first && i < leaf_first + leaf_count;
    const uint64_t edge = std::min(end, (i + 1) * leaf_bytes);
    const size_t len = static_cast<size_t>(std::min<uint64_t>(edge - pos, piece_bytes));
    const uint8_t* p = read(pos, len);
    if (carried && pos == i * leaf_bytes) start_leaf(leaf);
    feed(f, whole, carried ? &leaf : nullptr, p, len);
    pos += len;
    if (carried && pos == edge) finish(f, leaf, leaf_hashes + 32 * (i - leaf_first));
    batch_progress(len);
  }
  finish(f, whole, digest);
}

}  // namespace

void hash_ranges_with_leaves(const Kernel& k, const MerkleRange* ranges, size_t n, uint64_t leaf_bytes,
                             uint8_t* digests, uint8_t* leaf_hashes, size_t read_bytes) {
  const Fns f = fns_of(k);
  AlignedBuffer buf(read_bytes);
  size_t leaf_out = 0;
  for (size_t r = 0; r < n; ++r) {
    const MerkleRange& m = ranges[r];
    Fd fd(m.range.path, m.range.id);
    walk(f, m.range.offset, m.range.offset + m.range.length, leaf_bytes, m.leaf_first, m.leaf_count, read_bytes,
         digests + 32 * r, leaf_hashes + 32 * leaf_out, [&](uint64_t pos, size_t len) -> const uint8_t* {
           fd.pread_full(buf.data(), len, pos);
           return buf.data();
         });
    leaf_out += m.leaf_count;
  }
}

void hash_bytes_with_leaves(const Kernel& k, const uint8_t* data, size_t length, uint64_t leaf_bytes,
                            uint8_t* digest, uint8_t* leaf_hashes) {
  const Fns f = fns_of(k);
  const uint64_t count = (length + leaf_bytes - 1) / leaf_bytes;
  walk(f, 0, length, leaf_bytes, 0, count, SIZE_MAX, digest, leaf_hashes,
       [&](uint64_t pos, size_t) -> const uint8_t* { return data + pos; });
}


MessagePair::MessagePair(const Kernel& k) {
  const Fns f = fns_of(k);
  x1_ = f.x1;
  x2_ = f.x2;
  x1c_ = f.x1c;
  x2c_ = f.x2c;
  start(0, false);
  start(1, false);
}

void MessagePair::start(int lane, bool rfc9162_leaf) {
  State& s = s_[lane];
  std::memcpy(s.state, IV256, sizeof s.state);
  s.carry[0] = 0x00;
  s.r = rfc9162_leaf ? 1 : 0;
  s.total = s.r;
}

void MessagePair::feed(const uint8_t* a, size_t na, const uint8_t* b, size_t nb) {
  feed_impl(a, na, nullptr, b, nb, nullptr);
}

bool MessagePair::fuses_copy() const { return x1c_ && (!x2_ || x2c_); }

void MessagePair::feed_copy(const uint8_t* a, size_t na, uint8_t* da, const uint8_t* b, size_t nb, uint8_t* db) {
  if (fuses_copy()) return feed_impl(a, na, da, b, nb, db);
  // no copy-out kernel in this family: copy, then hash the copy (still the bytes handed out)
  if (na) std::memcpy(da, a, na);
  if (nb) std::memcpy(db, b, nb);
  feed_impl(da, na, nullptr, db, nb, nullptr);
}

// dst null: hash only. Otherwise dst[l] receives p[l]'s bytes and every byte hashed is either a byte
// the copy-out kernel stored as it loaded it, or read back from dst (carried partial blocks).
void MessagePair::feed_impl(const uint8_t* a, size_t na, uint8_t* da, const uint8_t* b, size_t nb, uint8_t* db) {
  const uint8_t* p[2] = {a, b};
  uint8_t* d[2] = {da, db};
  const size_t n[2] = {na, nb};
  const bool copy = da || db;
  size_t used[2], blocks[2];
  for (int l = 0; l < 2; ++l) {
    State& s = s_[l];
    used[l] = 0;
    // complete a carried partial block first
    if (s.r != 0 && n[l] > 0) {
      used[l] = std::min(64 - s.r, n[l]);
      const uint8_t* from = p[l];
      if (d[l]) {
        std::memcpy(d[l], p[l], used[l]);
        from = d[l];
      }
      std::memcpy(s.carry + s.r, from, used[l]);
      s.r += used[l];
      if (s.r == 64) {
        uint32_t* st[1] = {s.state};
        const uint8_t* dd[1] = {s.carry};
        x1_(st, dd, 1);
        s.r = 0;
      }
    }
    // a message whose carry is still partial took all its bytes, so it has no whole blocks
    blocks[l] = (n[l] - used[l]) / 64;
  }
  size_t both = 0;
  if (x2_) {
    both = std::min(blocks[0], blocks[1]);
    if (both > 0) {
      uint32_t* st[2] = {s_[0].state, s_[1].state};
      const uint8_t* dd[2] = {p[0] + used[0], p[1] + used[1]};
      if (copy) {
        uint8_t* out[2] = {d[0] + used[0], d[1] + used[1]};
        x2c_(st, dd, out, both);
      } else {
        x2_(st, dd, both);
      }
    }
  }
  for (int l = 0; l < 2; ++l) {
    State& s = s_[l];
    if (blocks[l] > both) {
      uint32_t* st[1] = {s.state};
      const uint8_t* dd[1] = {p[l] + used[l] + 64 * both};
      if (d[l]) {
        uint8_t* out[1] = {d[l] + used[l] + 64 * both};
        x1c_(st, dd, out, blocks[l] - both);
      } else {
        x1_(st, dd, blocks[l] - both);
      }
    }
    const size_t rest = (n[l] - used[l]) % 64;
    const uint8_t* from = p[l] + n[l] - rest;
    if (d[l] && rest) {
      std::memcpy(d[l] + n[l] - rest, from, rest);
      from = d[l] + n[l] - rest;
    }
    std::memcpy(s.carry + s.r, from, rest);
    s.r += rest;
    s.total += n[l];
  }
}

void MessagePair::finish(int lane, uint8_t out[32]) {
  State& s = s_[lane];
  const uint64_t bits = s.total * 8;
  std::memset(s.carry + s.r, 0, sizeof s.carry - s.r);
  s.carry[s.r] = 0x80;
  const size_t blocks = (s.r + 9 <= 64) ? 1 : 2;
  for (int i = 0; i < 8; ++i) s.carry[64 * blocks - 8 + i] = static_cast<uint8_t>(bits >> (56 - 8 * i));
  uint32_t* st[1] = {s.state};
  const uint8_t* d[1] = {s.carry};
  x1_(st, d, blocks);
  for (int i = 0; i < 8; ++i) {
    out[4 * i] = static_cast<uint8_t>(s.state[i] >> 24);
    out[4 * i + 1] = static_cast<uint8_t>(s.state[i] >> 16);
    out[4 * i + 2] = static_cast<uint8_t>(s.state[i] >> 8);
    out[4 * i + 3] = static_cast<uint8_t>(s.state[i]);
  }
}

}  // namespace sha256
}  // namespace modelseal
