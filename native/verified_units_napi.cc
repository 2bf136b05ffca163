// Verified-read units (openVerified, src/engine/native-units.ts): a run of units of one open file
// read with pread into a caller-owned buffer and hashed piece by piece while each piece is still in
// L2, on native threads off the JS thread. The caller compares the digests with the signed values
// and only then hands out the bytes, which are the very bytes hashed (never read again).
//
//   verifiedUnitsAsync(fd: number, offsets: Float64Array, lengths: Float64Array, modes: Uint8Array,
//                      algorithm: 'sha256' | 'blake3', buffer: Uint8Array, out: Uint8Array,
//                      threads?: number, kernel?: string, io?: 'pread' | 'map' | 'map-memcpy')
//                      -> Promise<undefined>
//     modes[i]: 0 a digest of the unit as a whole input, 1 a BLAKE3 subtree CV at chunk
//     offsets[i] / 1024, 2 an RFC 9162 leaf hash SHA-256(0x00 ‖ bytes). Unit i's bytes land at
//     buffer[lengths[0] + … + lengths[i-1]], its 32-byte digest at out[32 i]. The promise settles
//     only once every thread has stopped writing, so the caller may reuse `buffer` after it.
//     Rejects with FILE_CHANGED when the file ends inside a unit (also when it is truncated while
//     mapped), IO_ERROR on a read error. `io` (tests, benchmarks): how the bytes are read, `Io`
//     below; undefined picks the measured default (kDefaultIo*), and pread whenever memory is short.
//   alignedBuffer(bytes: number) -> ArrayBuffer
//     Page-aligned memory for `buffer` (a pread into memory at page offset 16, where a large
//     ArrayBuffer of V8 starts, ran 4-5x slower on the Zen 3 host: io.h's AlignedBuffer note).
//
// Why not the worker pool (measured, 2-vCPU EPYC Milan, 2 GiB page-cached, SHA-256, s3-stream's
// profile): a piscina worker pays ~0.2 s of postMessage and ~0.3 s idle per 2 GiB on top of the
// hashing, and its pread into a fresh or transferred buffer ran at 0.32 s/GiB; here the pread
// lands in a reused buffer (0.13 s/GiB, bench/mapping-cost.c) and the hash reads it from L2.
#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "blake3/blake3_impl.h"
#include "blake3/blake3_tree.h"
#include "io.h"
#include "kernel_args.h"
#include "napi_args.h"
#include "read_policy.h"
#include "registry.h"
#include "sha256/sha256_impl.h"
#include "sha256/sha256_merkle.h"
#include "threaded_leaves.h"

namespace modelseal {

namespace {

// Bytes read and hashed at a time per unit: a pair of SHA-256 pieces (2 × 128 KiB) or one BLAKE3
// piece (256 KiB) stays inside the 512 KiB L2 of a Zen 3 core between the pread and the hash.
constexpr size_t kPieceBytes = size_t(128) << 10;
constexpr uint8_t kDigest = 0, kCv = 1, kLeaf = 2;

// Memory of alignedBuffer(), owned jointly by its ArrayBuffer and by every call writing into it: a
// process that exits (SIGINT) while threads still read into a buffer frees the ArrayBuffer at
// isolate teardown, and the threads must not then write into freed memory.
//
// Freed blocks are kept (up to kSpareBytes) for the next alignedBuffer() of the same size: a stream
// whose consumer keeps each chunk (createReadStream, cat: a fresh buffer per batch) otherwise maps,
// faults in and unmaps 4 MiB per batch; measured on the 2-vCPU EPYC Milan host, 2 GiB SHA-256
// stream: 3.4 CPU-s with fresh memory per batch against 1.3 with the ring.
constexpr size_t kSpareBytes = size_t(64) << 20;
std::mutex g_blocks_mu;
// never destroyed: threads may still hold blocks while static destructors run at exit
auto* const g_blocks = new std::map<const void*, std::shared_ptr<struct Block>>();
auto* const g_spare = new std::multimap<size_t, void*>();
size_t g_spare_bytes = 0;

struct Block {
  void* p;
  size_t bytes;
  ~Block() {
    std::lock_guard<std::mutex> lock(g_blocks_mu);
    if (g_spare_bytes + bytes <= kSpareBytes) {
      g_spare->emplace(bytes, p);
      g_spare_bytes += bytes;
    } else {
      ::munmap(p, bytes);
    }
  }
};

std::shared_ptr<Block> block_of(const void* p) {
  std::lock_guard<std::mutex> lock(g_blocks_mu);
  auto it = g_blocks->find(p);
  return it == g_blocks->end() ? nullptr : it->second;
}

struct Unit {
  uint64_t offset, length, at;
  uint8_t mode;
};

// How a unit's bytes reach the buffer. kPread: pread a piece into the buffer, hash it there.
// kMap: map the unit's file range and copy each piece from the mapping into the buffer as it is
// hashed: the copy-out kernels store the very blocks they load (SHA-NI, MessagePair::feed_copy;
// AVX2 BLAKE3, Hasher::update_copy); kernels without one memcpy a piece and hash the copy from L2.
// kMapMemcpy: the map path with memcpy then hash for every kernel (the measured comparison,
// bench/fused-copy.mjs).
// Either way one read of the source feeds both the bytes handed out and the hash.
enum class Io : uint8_t { kPread, kMap, kMapMemcpy };
// Defaults, by measurement (bench/fused-copy.mjs, 2 GiB page-cached as 16 x 128 MiB, 1 MiB units,
// 2-vCPU EPYC Milan, user+sys CPU-s of the whole process, medians of 5, load 3.1-5.2;
// bench/results/fused-copy{,-large-folios}-amd-epyc-2026-12-05.json):
//                          pread   map + memcpy   map, copy-out kernel (fused)
//   SHA-256, 4 KiB folios:  1.02     1.16           1.02
//   SHA-256, large folios:  0.96     1.02           0.83
//   BLAKE3,  4 KiB folios:  0.94     1.11           1.10
//   BLAKE3,  large folios:  0.84     0.87           0.84
// Mapping a 4 KiB-folio page cache costs as much system time as the kernel's copy (the faults),
// so mapping only breaks even there at best; with large folios it saves the copy's system time.
// The SHA-NI copy-out stores cost ~0.05 s of user time (the SHA unit is the bottleneck), the AVX2
// BLAKE3 ones 0.12-0.14 s, as much as the copy saves; a user-space memcpy costs as much as the
// kernel's. So SHA-256 with a copy-out kernel maps, and BLAKE3 and the rest stay on pread.
constexpr Io kDefaultIoFusedSha256 = Io::kMap;
constexpr Io kDefaultIoOther = Io::kPread;

void throw_shorter() { throw IoError("FILE_CHANGED", "the file became shorter while it was being read"); }

uint64_t file_size(int fd) {
  struct stat st;
  if (::fstat(fd, &st) != 0) throw IoError("IO_ERROR", std::string("cannot stat the file: ") + std::strerror(errno));
  return static_cast<uint64_t>(st.st_size);
}

// Mappings start and end on 2 MiB file offsets: the kernel then places them on 2 MiB virtual
// addresses, and a page cache held in 2 MiB folios is mapped with one fault per folio instead of
// one per 64 KiB (fault-around). Measured (bench/fused-copy.mjs, large-folio copy of m2g-16f,
// 2-vCPU EPYC Milan): 1 MiB BLAKE3 units mapped one by one took 34 400 faults per 2 GiB, 2 MiB-aligned
// SHA-256 pairs 1 810. The bytes past the end of the file in the last window are never touched.
constexpr uint64_t kMapAlign = uint64_t(2) << 20;

// A read-only mapping covering [lo, hi) of a file; not ok() when the file system cannot map it
// (ENODEV) or the address space is short, and the caller then reads with pread.
class RangeMap {
 public:
  RangeMap(int fd, uint64_t lo, uint64_t hi) {
    const uint64_t start = lo & ~(kMapAlign - 1);
    len_ = static_cast<size_t>(((hi + kMapAlign - 1) & ~(kMapAlign - 1)) - start);
    if (len_ == 0) return;
    void* p = ::mmap(nullptr, len_, PROT_READ, MAP_PRIVATE, fd, static_cast<off_t>(start));
    if (p == MAP_FAILED) return;
    ::madvise(p, len_, MADV_SEQUENTIAL);
    base_ = static_cast<uint8_t*>(p);
    data_ = base_ - start;
  }
  ~RangeMap() {
    if (base_) ::munmap(base_, len_);
  }
  RangeMap(const RangeMap&) = delete;
  RangeMap& operator=(const RangeMap&) = delete;
  bool ok() const { return base_ != nullptr; }
  // the mapped byte at file offset `off`
  const uint8_t* at(uint64_t off) const { return data_ + off; }

 private:
  uint8_t* base_ = nullptr;
  const uint8_t* data_ = nullptr;
  size_t len_ = 0;
};

// The guarded part of a mapped SHA-256 pair (guard_sigbus: nothing here owns a destructor).
struct ShaMapJob {
  sha256::MessagePair* m;
  const uint8_t* src[2];
  uint8_t* dst[2];
  uint64_t len[2];
  bool memcpy_first;
};

void sha_map_job(void* arg) {
  ShaMapJob& j = *static_cast<ShaMapJob*>(arg);
  for (uint64_t pa = 0, pb = 0; pa < j.len[0] || pb < j.len[1];) {
    const size_t na = static_cast<size_t>(std::min<uint64_t>(kPieceBytes, j.len[0] - pa));
    const size_t nb = static_cast<size_t>(std::min<uint64_t>(kPieceBytes, j.len[1] - pb));
    uint8_t* da = j.dst[0] + pa;
    uint8_t* db = j.dst[1] + pb;
    if (j.memcpy_first) {
      std::memcpy(da, j.src[0] + pa, na);
      std::memcpy(db, j.src[1] + pb, nb);
      j.m->feed(da, na, db, nb);
    } else {
      j.m->feed_copy(j.src[0] + pa, na, da, j.src[1] + pb, nb, db);
    }
    pa += na;
    pb += nb;
  }
}

// The guarded part of a mapped BLAKE3 unit: pieces stored by the copy-out hash_many as it hashes
// them (blake3::Hasher::update_copy), or with memcpy_first copied, then hashed from L2.
struct Blake3MapJob {
  blake3::Hasher* h;
  const uint8_t* src;
  uint8_t* dst;
  uint64_t len;
  bool memcpy_first;
};

void blake3_map_job(void* arg) {
  Blake3MapJob& j = *static_cast<Blake3MapJob*>(arg);
  for (uint64_t p = 0; p < j.len;) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(2 * kPieceBytes, j.len - p));
    if (j.memcpy_first) {
      std::memcpy(j.dst + p, j.src + p, n);
      j.h->update(j.dst + p, n);
    } else {
      j.h->update_copy(j.src + p, n, j.dst + p);
    }
    p += n;
  }
}

void pread_exact(int fd, uint8_t* dst, size_t n, uint64_t offset) {
  size_t done = 0;
  while (done < n) {
    const ssize_t r = ::pread(fd, dst + done, n - done, static_cast<off_t>(offset + done));
    if (r < 0) {
      if (errno == EINTR) continue;
      throw IoError("IO_ERROR", std::string("read failed: ") + std::strerror(errno));
    }
    if (r == 0) throw IoError("FILE_CHANGED", "the file became shorter while it was being read");
    done += static_cast<size_t>(r);
  }
}

class UnitsWorker : public ThreadedLeavesWorker {
 public:
  UnitsWorker(Napi::Env env, int fd, std::vector<Unit>&& units, bool sha, const sha256::Kernel* sk, const blake3::Kernel* bk,
              Napi::Uint8Array buffer, Napi::Uint8Array out, size_t threads, Io io)
      : ThreadedLeavesWorker(env, "modelseal:verifiedUnitsAsync", sha ? "SHA-256" : "BLAKE3", out, env.Undefined(), BatchProgress{}),
        fd_(fd),
        // short of memory (read_policy.h: sampled at most every 100 ms) the pieces are preaded with
        // the low-memory reader's bounded footprint rather than ranges mapped
        io_(io != Io::kPread && low_memory_reads() ? Io::kPread : io),
        units_(std::move(units)),
        sha_(sha),
        sk_(sk),
        bk_(bk),
        buf_(buffer.Data()),
        digests_(32 * units_.size()),
        out_(digests_.data()),
        block_(block_of(buffer.ArrayBuffer().Data())) {
    out_js_ = Napi::Persistent(out.As<Napi::Object>());
    // the buffer stays alive (and is not collected) until every thread is done writing into it;
    // an alignedBuffer's memory even past the isolate (block_)
    buf_ref_ = Napi::Persistent(buffer.As<Napi::Object>());
    // SHA-256 units go two at a time, as the two lanes of the 2-lane kernel
    items_ = sha_ ? (units_.size() + 1) / 2 : units_.size();
    threads_ = std::max<size_t>(1, std::min(threads, items_));
  }

 protected:
  void OnOK() override {
    {
      Napi::HandleScope scope(Env());
      Napi::Uint8Array out = out_js_.Value().As<Napi::Uint8Array>();
      std::memcpy(out.Data(), digests_.data(), digests_.size());
    }
    ThreadedLeavesWorker::OnOK();
  }

 private:
  void run() override {
    for (size_t i; (i = claim(items_)) != kNone;) {
      if (sha_)
        sha_pair(2 * i, 2 * i + 1 < units_.size() ? 2 * i + 1 : kNone);
      else
        blake3_unit(units_[i], out_ + 32 * i);
    }
  }

  void sha_pair(size_t a, size_t b) {
    sha256::MessagePair m(*sk_);
    const Unit& ua = units_[a];
    const Unit none{0, 0, 0, kDigest};
    const Unit& ub = b == kNone ? none : units_[b];
    m.start(0, ua.mode == kLeaf);
    m.start(1, ub.mode == kLeaf);
    if (io_ != Io::kPread && sha_pair_mapped(m, ua, ub)) {
      m.finish(0, out_ + 32 * a);
      if (b != kNone) m.finish(1, out_ + 32 * b);
      return;
    }
    for (uint64_t pa = 0, pb = 0; pa < ua.length || pb < ub.length;) {
      const size_t na = static_cast<size_t>(std::min<uint64_t>(kPieceBytes, ua.length - pa));
      const size_t nb = static_cast<size_t>(std::min<uint64_t>(kPieceBytes, ub.length - pb));
      uint8_t* da = buf_ + ua.at + pa;
      uint8_t* db = buf_ + ub.at + pb;
      if (na) pread_exact(fd_, da, na, ua.offset + pa);
      if (nb) pread_exact(fd_, db, nb, ub.offset + pb);
      m.feed(da, na, db, nb);
      pa += na;
      pb += nb;
    }
    m.finish(0, out_ + 32 * a);
    if (b != kNone) m.finish(1, out_ + 32 * b);
  }

  // Both units of a pair from one mapping of the range spanning them (adjacent units of a run);
  // false when it cannot be mapped (nothing consumed: the caller preads instead). FILE_CHANGED when
  // the file is shorter than the units before, or after (a truncation inside the last page reads as
  // zeros rather than raising SIGBUS), or a mapped page is gone (SIGBUS).
  bool sha_pair_mapped(sha256::MessagePair& m, const Unit& ua, const Unit& ub) {
    uint64_t lo = ua.offset, hi = ua.offset + ua.length;
    if (ub.length) {
      lo = std::min(lo, ub.offset);
      hi = std::max(hi, ub.offset + ub.length);
    }
    if (hi == lo) return false;
    if (file_size(fd_) < hi) throw_shorter();
    RangeMap map(fd_, lo, hi);
    if (!map.ok()) return false;
    ShaMapJob job{&m, {map.at(ua.offset), ub.length ? map.at(ub.offset) : nullptr}, {buf_ + ua.at, buf_ + ub.at},
                  {ua.length, ub.length}, io_ == Io::kMapMemcpy};
    if (!guard_sigbus(sha_map_job, &job) || file_size(fd_) < hi) throw_shorter();
    return true;
  }

  bool blake3_mapped(blake3::Hasher& h, const Unit& u) {
    const uint64_t hi = u.offset + u.length;
    if (file_size(fd_) < hi) throw_shorter();
    RangeMap map(fd_, u.offset, hi);
    if (!map.ok()) return false;
    Blake3MapJob job{&h, map.at(u.offset), buf_ + u.at, u.length, io_ == Io::kMapMemcpy};
    if (!guard_sigbus(blake3_map_job, &job) || file_size(fd_) < hi) throw_shorter();
    return true;
  }

  void blake3_unit(const Unit& u, uint8_t* out) {
    blake3::Hasher h(*bk_, u.mode == kCv ? u.offset / blake3::CHUNK_LEN : 0);
    if (io_ != Io::kPread && u.length > 0 && blake3_mapped(h, u)) {
      h.finalize(u.mode != kCv, out);
      return;
    }
    for (uint64_t p = 0; p < u.length;) {
      const size_t n = static_cast<size_t>(std::min<uint64_t>(2 * kPieceBytes, u.length - p));
      uint8_t* d = buf_ + u.at + p;
      pread_exact(fd_, d, n, u.offset + p);
      h.update(d, n);
      p += n;
    }
    h.finalize(u.mode != kCv, out);
  }

  const int fd_;
  const Io io_;
  const std::vector<Unit> units_;
  const bool sha_;
  const sha256::Kernel* const sk_;
  const blake3::Kernel* const bk_;
  uint8_t* const buf_;
  // digests land in native memory and are copied into `out` on the JS thread (OnOK): threads still
  // running when the process exits never write into memory V8 may have freed
  std::vector<uint8_t> digests_;
  uint8_t* const out_;
  Napi::ObjectReference out_js_;
  const std::shared_ptr<Block> block_;
  size_t items_ = 0;
  Napi::ObjectReference buf_ref_;
};

const double* f64_arg(Napi::Env env, const Napi::Value& v, size_t n, const std::string& name) {
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float64_array ||
      v.As<Napi::Float64Array>().ElementLength() != n)
    bad_type(env, name + " must be a Float64Array of one number per unit");
  return v.As<Napi::Float64Array>().Data();
}

uint64_t safe_f64(Napi::Env env, double d, const std::string& name) {
  if (!(d >= 0) || d > kMaxSafeInteger || std::floor(d) != d)
    bad_range(env, name + " must be a non-negative integer no larger than 2^53-1");
  return static_cast<uint64_t>(d);
}

Napi::Value VerifiedUnitsAsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, "verified read", [&]() -> Napi::Value {
    if (info.Length() < 7) bad_type(env, "verifiedUnitsAsync(fd, offsets, lengths, modes, algorithm, buffer, out, threads?, kernel?) needs 7 arguments");
    const uint64_t fd64 = safe_u64(env, info[0], "fd");
    if (fd64 > 0x7fffffff) bad_range(env, "fd must be an open file descriptor");
    Napi::Uint8Array modes = u8_arg(env, info[3], "modes");
    const size_t n = modes.ByteLength();
    if (n == 0) bad_range(env, "modes must name at least one unit");
    const double* offsets = f64_arg(env, info[1], n, "offsets");
    const double* lengths = f64_arg(env, info[2], n, "lengths");
    if (!info[4].IsString()) bad_type(env, "algorithm must be 'sha256' or 'blake3'");
    const std::string alg = info[4].As<Napi::String>().Utf8Value();
    if (alg != "sha256" && alg != "blake3") bad_range(env, "algorithm must be 'sha256' or 'blake3' (got '" + alg + "')");
    const bool sha = alg == "sha256";
    Napi::Uint8Array buffer = u8_arg(env, info[5], "buffer");
    Napi::Uint8Array out = u8_arg(env, info[6], "out");
    if (out.ByteLength() != 32 * n) bad_range(env, "out must be 32 bytes per unit (" + std::to_string(32 * n) + ")");
    const size_t threads = threads_arg(env, info[7]);
    const sha256::Kernel* sk = sha ? &sha256_kernel_arg(env, info[8]) : nullptr;
    const blake3::Kernel* bk = sha ? nullptr : &blake3_kernel_arg(env, info[8]);
    Io io = sha && sha256::MessagePair(*sk).fuses_copy() ? kDefaultIoFusedSha256 : kDefaultIoOther;
    if (info.Length() > 9 && !info[9].IsUndefined()) {
      const std::string name = info[9].IsString() ? info[9].As<Napi::String>().Utf8Value() : std::string();
      if (name == "pread") io = Io::kPread;
      else if (name == "map") io = Io::kMap;
      else if (name == "map-memcpy") io = Io::kMapMemcpy;
      else if (!info[9].IsString()) bad_type(env, "io must be 'pread', 'map' or 'map-memcpy' (or undefined for the default)");
      else bad_range(env, "io must be 'pread', 'map' or 'map-memcpy' (got '" + name + "')");
    }
    std::vector<Unit> units(n);
    uint64_t at = 0;
    for (size_t i = 0; i < n; i++) {
      const std::string idx = "[" + std::to_string(i) + "]";
      Unit& u = units[i];
      u.offset = safe_f64(env, offsets[i], "offsets" + idx);
      u.length = safe_f64(env, lengths[i], "lengths" + idx);
      u.mode = modes.Data()[i];
      u.at = at;
      if (u.offset + u.length > static_cast<uint64_t>(kMaxSafeInteger)) bad_range(env, "offsets" + idx + " + lengths" + idx + " exceeds the largest safe integer");
      if (u.mode > kLeaf) bad_range(env, "modes" + idx + " must be 0 (digest), 1 (cv) or 2 (leaf)");
      if (sha && u.mode == kCv) bad_range(env, "modes" + idx + ": a 'cv' unit needs algorithm 'blake3'");
      if (!sha && u.mode == kLeaf) bad_range(env, "modes" + idx + ": an RFC 9162 'leaf' unit needs algorithm 'sha256'");
      if (u.mode == kCv && (u.offset % blake3::CHUNK_LEN != 0 || u.length == 0))
        bad_range(env, "a 'cv' unit" + idx + " must start at a multiple of 1024 and not be empty");
      at += u.length;
    }
    if (at > buffer.ByteLength()) bad_range(env, "buffer must hold every unit (" + std::to_string(at) + " bytes)");
    UnitsWorker* w = new UnitsWorker(env, static_cast<int>(fd64), std::move(units), sha, sk, bk, buffer, out, threads, io);
    Napi::Promise p = w->promise();
    w->Queue();
    return p;
  });
}

Napi::Value AlignedArrayBuffer(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, "verified read", [&]() -> Napi::Value {
    const uint64_t n = info.Length() > 0 ? safe_u64(env, info[0], "bytes") : 0;
    if (n == 0 || n > (uint64_t(1) << 32)) bad_range(env, "bytes must be from 1 to 2^32");
    void* p = nullptr;
    const size_t rounded = (static_cast<size_t>(n) + 4095) & ~size_t(4095);
    {
      std::lock_guard<std::mutex> lock(g_blocks_mu);
      auto it = g_spare->find(rounded);
      if (it != g_spare->end()) {
        p = it->second;
        g_spare->erase(it);
        g_spare_bytes -= rounded;
      }
    }
    if (!p) {
      // populated in one call: a fresh 2 MiB batch faulted in page by page by pread took 2.9 ms
      // against 1.0 ms into reused memory (the first pair of a stream, 2-vCPU EPYC Milan)
      p = ::mmap(nullptr, rounded, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
      if (p == MAP_FAILED) throw std::bad_alloc();
    }
    auto block = std::make_shared<Block>();
    block->p = p;
    block->bytes = rounded;
    {
      std::lock_guard<std::mutex> lock(g_blocks_mu);
      g_blocks->emplace(p, std::move(block));
    }
    // V8 is told of the memory, so that dropped buffers are collected as soon as JS ones would be
    Napi::MemoryManagement::AdjustExternalMemory(env, static_cast<int64_t>(rounded));
    return Napi::ArrayBuffer::New(env, p, static_cast<size_t>(n), [rounded](Napi::Env e, void* data) {
      std::shared_ptr<Block> b;
      {
        std::lock_guard<std::mutex> lock(g_blocks_mu);
        auto it = g_blocks->find(data);
        if (it != g_blocks->end()) {
          b = std::move(it->second);
          g_blocks->erase(it);
        }
      }
      b.reset();  // spared or freed here, or by the last call still writing into it (outside the lock)
      Napi::MemoryManagement::AdjustExternalMemory(e, -static_cast<int64_t>(rounded));
    });
  });
}

}  // namespace

void RegisterVerifiedUnits(Napi::Env env, Napi::Object exports) {
  exports.Set("verifiedUnitsAsync", Napi::Function::New(env, VerifiedUnitsAsync, "verifiedUnitsAsync"));
  exports.Set("alignedBuffer", Napi::Function::New(env, AlignedArrayBuffer, "alignedBuffer"));
}

}  // namespace modelseal
