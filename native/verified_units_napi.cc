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
//   new UnitsPipeline(threads, done) / .submit(id, fd, offsets, …, out, kernel?, io?) / .close()
//     The same units hashed by persistent threads of a stream, tasks taken in order, each settled
//     by done(id[, error]) on the JS thread (the class comment below).
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
#include <condition_variable>
#include <cstring>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include <pthread.h>
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
// 128 MiB, not 64 (s6-owned): owned blocks are freed in bursts, one per garbage collection, and
// with the collections half as frequent (no double report to V8, AlignedArrayBuffer below) a
// burst overflowed 64 MiB: owned SHA-256 stream of 2 GiB (16 x 128 MiB page-cached), 2-vCPU EPYC
// Milan, medians of 5, bench/verified-stream-owned.mjs: sys 0.68-0.74 s and peak RSS 212-279 MiB
// with 64 MiB against 0.46-0.51 s and 189-213 MiB with 128 or 256 (those two alike, load 2.2-2.4;
// bench/results/verified-stream-owned-sweep2-amd-epyc-2026-12-05.json).
constexpr size_t kSpareBytes = size_t(128) << 20;
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

// One call's units and how they are read and hashed: the work of a verifiedUnitsAsync call (one
// libuv work item whose threads claim its items) and of a pipeline task (UnitsPipeline below,
// whose persistent threads claim items across tasks). Items: SHA-256 units two at a time (the two
// lanes of the 2-lane kernel), BLAKE3 units one at a time. run_item() may throw IoError.
class UnitsJob {
 public:
  UnitsJob(int fd, std::vector<Unit>&& units, bool sha, const sha256::Kernel* sk, const blake3::Kernel* bk, uint8_t* buf, Io io)
      : fd_(fd),
        // short of memory (read_policy.h: sampled at most every 100 ms) the pieces are preaded with
        // the low-memory reader's bounded footprint rather than ranges mapped
        io_(io != Io::kPread && low_memory_reads() ? Io::kPread : io),
        units_(std::move(units)),
        sha_(sha),
        sk_(sk),
        bk_(bk),
        buf_(buf),
        digests_(32 * units_.size()),
        out_(digests_.data()),
        items_(sha_ ? (units_.size() + 1) / 2 : units_.size()) {}
  UnitsJob(const UnitsJob&) = delete;
  UnitsJob& operator=(const UnitsJob&) = delete;

  size_t items() const { return items_; }
  // Digests land in native memory and are copied into the caller's `out` on the JS thread: threads
  // still running when the process exits never write into memory V8 may have freed.
  const std::vector<uint8_t>& digests() const { return digests_; }

  void run_item(size_t i) {
    if (sha_)
      sha_pair(2 * i, 2 * i + 1 < units_.size() ? 2 * i + 1 : kNoUnit);
    else
      blake3_unit(units_[i], out_ + 32 * i);
  }

 private:
  static constexpr size_t kNoUnit = ~size_t(0);

  void sha_pair(size_t a, size_t b) {
    sha256::MessagePair m(*sk_);
    const Unit& ua = units_[a];
    const Unit none{0, 0, 0, kDigest};
    const Unit& ub = b == kNoUnit ? none : units_[b];
    m.start(0, ua.mode == kLeaf);
    m.start(1, ub.mode == kLeaf);
    if (io_ != Io::kPread && sha_pair_mapped(m, ua, ub)) {
      m.finish(0, out_ + 32 * a);
      if (b != kNoUnit) m.finish(1, out_ + 32 * b);
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
    if (b != kNoUnit) m.finish(1, out_ + 32 * b);
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
  std::vector<uint8_t> digests_;
  uint8_t* const out_;
  const size_t items_;
};

class UnitsWorker : public ThreadedLeavesWorker {
 public:
  UnitsWorker(Napi::Env env, int fd, std::vector<Unit>&& units, bool sha, const sha256::Kernel* sk, const blake3::Kernel* bk,
              Napi::Uint8Array buffer, Napi::Uint8Array out, size_t threads, Io io)
      : ThreadedLeavesWorker(env, "modelseal:verifiedUnitsAsync", sha ? "SHA-256" : "BLAKE3", out, env.Undefined(), BatchProgress{}),
        job_(fd, std::move(units), sha, sk, bk, buffer.Data(), io),
        block_(block_of(buffer.ArrayBuffer().Data())) {
    out_js_ = Napi::Persistent(out.As<Napi::Object>());
    // the buffer stays alive (and is not collected) until every thread is done writing into it;
    // an alignedBuffer's memory even past the isolate (block_)
    buf_ref_ = Napi::Persistent(buffer.As<Napi::Object>());
    threads_ = std::max<size_t>(1, std::min(threads, job_.items()));
  }

 protected:
  void OnOK() override {
    {
      Napi::HandleScope scope(Env());
      Napi::Uint8Array out = out_js_.Value().As<Napi::Uint8Array>();
      std::memcpy(out.Data(), job_.digests().data(), job_.digests().size());
    }
    ThreadedLeavesWorker::OnOK();
  }

 private:
  void run() override {
    for (size_t i; (i = claim(job_.items())) != kNone;) job_.run_item(i);
  }

  UnitsJob job_;
  Napi::ObjectReference out_js_;
  const std::shared_ptr<Block> block_;
  Napi::ObjectReference buf_ref_;
};

const double* f64_arg(Napi::Env env, const Napi::Value& v, size_t n, const std::string& name) {
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float64_array ||
      v.As<Napi::Float64Array>().ElementLength() != n)
    bad_type(env, name + " must be a Float64Array of one number per unit");
  return v.As<Napi::Float64Array>().Data();
}

// Unit i's offset or length: an integer in [0, 2^53); the message (built only on failure) names it.
uint64_t safe_f64(Napi::Env env, double d, const char* name, size_t i) {
  if (!safe_integer(d))
    bad_range(env, std::string(name) + "[" + std::to_string(i) + "] must be a non-negative integer no larger than 2^53-1");
  return static_cast<uint64_t>(d);
}

// The arguments a verifiedUnitsAsync call and a pipeline task share: (fd, offsets, lengths, modes,
// algorithm, buffer, out) from info[at], then kernel? at info[kernel_at] and io? at info[kernel_at + 1].
struct UnitsCall {
  int fd = -1;
  std::vector<Unit> units;
  bool sha = false;
  const sha256::Kernel* sk = nullptr;
  const blake3::Kernel* bk = nullptr;
  Io io = Io::kPread;
};

UnitsCall units_call(const Napi::CallbackInfo& info, size_t at, size_t kernel_at, Napi::Uint8Array& buffer, Napi::Uint8Array& out) {
  Napi::Env env = info.Env();
  UnitsCall c;
  const uint64_t fd64 = safe_u64(env, info[at], "fd");
  if (fd64 > 0x7fffffff) bad_range(env, "fd must be an open file descriptor");
  c.fd = static_cast<int>(fd64);
  Napi::Uint8Array modes = u8_arg(env, info[at + 3], "modes");
  const size_t n = modes.ByteLength();
  if (n == 0) bad_range(env, "modes must name at least one unit");
  const double* offsets = f64_arg(env, info[at + 1], n, "offsets");
  const double* lengths = f64_arg(env, info[at + 2], n, "lengths");
  if (!info[at + 4].IsString()) bad_type(env, "algorithm must be 'sha256' or 'blake3'");
  const std::string alg = info[at + 4].As<Napi::String>().Utf8Value();
  if (alg != "sha256" && alg != "blake3") bad_range(env, "algorithm must be 'sha256' or 'blake3' (got '" + alg + "')");
  c.sha = alg == "sha256";
  buffer = u8_arg(env, info[at + 5], "buffer");
  out = u8_arg(env, info[at + 6], "out");
  if (out.ByteLength() != 32 * n) bad_range(env, "out must be 32 bytes per unit (" + std::to_string(32 * n) + ")");
  const Napi::Value kernel = info.Length() > kernel_at ? info[kernel_at] : env.Undefined();
  c.sk = c.sha ? &sha256_kernel_arg(env, kernel) : nullptr;
  c.bk = c.sha ? nullptr : &blake3_kernel_arg(env, kernel);
  c.io = c.sha && sha256::MessagePair(*c.sk).fuses_copy() ? kDefaultIoFusedSha256 : kDefaultIoOther;
  if (info.Length() > kernel_at + 1 && !info[kernel_at + 1].IsUndefined()) {
    const Napi::Value v = info[kernel_at + 1];
    const std::string name = v.IsString() ? v.As<Napi::String>().Utf8Value() : std::string();
    if (name == "pread") c.io = Io::kPread;
    else if (name == "map") c.io = Io::kMap;
    else if (name == "map-memcpy") c.io = Io::kMapMemcpy;
    else if (!v.IsString()) bad_type(env, "io must be 'pread', 'map' or 'map-memcpy' (or undefined for the default)");
    else bad_range(env, "io must be 'pread', 'map' or 'map-memcpy' (got '" + name + "')");
  }
  c.units.resize(n);
  uint64_t pos = 0;
  const auto idx = [](size_t i) { return "[" + std::to_string(i) + "]"; };  // only for messages
  for (size_t i = 0; i < n; i++) {
    Unit& u = c.units[i];
    u.offset = safe_f64(env, offsets[i], "offsets", i);
    u.length = safe_f64(env, lengths[i], "lengths", i);
    u.mode = modes.Data()[i];
    u.at = pos;
    if (u.offset + u.length > static_cast<uint64_t>(kMaxSafeInteger)) bad_range(env, "offsets" + idx(i) + " + lengths" + idx(i) + " exceeds the largest safe integer");
    if (u.mode > kLeaf) bad_range(env, "modes" + idx(i) + " must be 0 (digest), 1 (cv) or 2 (leaf)");
    if (c.sha && u.mode == kCv) bad_range(env, "modes" + idx(i) + ": a 'cv' unit needs algorithm 'blake3'");
    if (!c.sha && u.mode == kLeaf) bad_range(env, "modes" + idx(i) + ": an RFC 9162 'leaf' unit needs algorithm 'sha256'");
    if (u.mode == kCv && (u.offset % blake3::CHUNK_LEN != 0 || u.length == 0))
      bad_range(env, "a 'cv' unit" + idx(i) + " must start at a multiple of 1024 and not be empty");
    pos += u.length;
  }
  if (pos > buffer.ByteLength()) bad_range(env, "buffer must hold every unit (" + std::to_string(pos) + " bytes)");
  return c;
}

Napi::Value VerifiedUnitsAsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, "verified read", [&]() -> Napi::Value {
    if (info.Length() < 7) bad_type(env, "verifiedUnitsAsync(fd, offsets, lengths, modes, algorithm, buffer, out, threads?, kernel?) needs 7 arguments");
    Napi::Uint8Array buffer, out;
    UnitsCall c = units_call(info, 0, 8, buffer, out);
    const size_t threads = threads_arg(env, info[7]);
    UnitsWorker* w = new UnitsWorker(env, c.fd, std::move(c.units), c.sha, c.sk, c.bk, buffer, out, threads, c.io);
    Napi::Promise p = w->promise();
    w->Queue();
    return p;
  });
}

// UnitsPipeline: the same units, hashed by `threads` persistent native threads of a stream instead
// of one libuv work item per batch.
//
//   new UnitsPipeline(threads: number, done: (id: number, error?: Error) => void)
//   pipeline.submit(id, fd, offsets, lengths, modes, algorithm, buffer, out, kernel?, io?)
//     queues a task (the arguments of verifiedUnitsAsync less `threads`; `buffer` must come from
//     alignedBuffer()); `done(id)` is called on the JS thread once every thread has stopped
//     writing into `buffer` and the digests are in `out`, or `done(id, error)` with the first
//     failure (FILE_CHANGED, IO_ERROR, OUT_OF_MEMORY, or ABORTED when closed first).
//   pipeline.close()
//     stops the threads (each finishes the item it hashes) and fails the tasks not yet done with
//     ABORTED. Also done when the pipeline is collected and when the environment is torn down.
//
// Tasks are taken in the order submitted, and every thread works on the oldest task until all its
// items are claimed, so tasks finish in about the order a stream consumes them.
//
// Measured reason (2-vCPU EPYC Milan, 2 GiB page-cached as 16 x 128 MiB, chunksOfFiles): with one
// libuv work item per batch, calls + 5 batches in flight put four pool threads on two cores; the
// calling thread then waited a time slice behind them at each wake-up and the cores idled while it
// did (cores busy 1.83-1.87 of 2 against 1.97 for `hash`). Here exactly `threads` threads hash, and
// the libuv pool stays free for the stream's own file opens. docs/companion.md has the figures.
class UnitsPipeline : public Napi::ObjectWrap<UnitsPipeline> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "UnitsPipeline", {InstanceMethod<&UnitsPipeline::Submit>("submit"), InstanceMethod<&UnitsPipeline::Close>("close")});
  }

  explicit UnitsPipeline(const Napi::CallbackInfo& info) : Napi::ObjectWrap<UnitsPipeline>(info) {
    Napi::Env env = info.Env();
    const size_t threads = threads_arg(env, info.Length() > 0 ? info[0] : env.Undefined());
    if (info.Length() < 2 || !info[1].IsFunction()) bad_type(env, "new UnitsPipeline(threads, done): done must be a function");
    auto core = std::make_shared<Core>();
    core->env = env;
    // the thread-safe function holds the Core until it is finalized (after its queue is drained)
    auto* held = new std::shared_ptr<Core>(core);
    if (napi_create_threadsafe_function(env, info[1], nullptr, Napi::String::New(env, "modelseal:UnitsPipeline"), 0, 1, held, &Core::on_finalize, core.get(),
                                        &Core::deliver, &core->tsfn) != napi_ok) {
      delete held;
      throw_coded(env, "OUT_OF_MEMORY", "could not create the verified-read pipeline");
    }
    // unreferenced while no task is pending: an idle pipeline never keeps the process alive
    napi_unref_threadsafe_function(env, core->tsfn);
    // added after the thread-safe function's own hook, so it runs first (newest first): the
    // threads stop while the function can still be released
    core->hook = new std::shared_ptr<Core>(core);
    napi_add_env_cleanup_hook(env, &Core::on_env_teardown, core->hook);
    core_ = core;
    try {
      for (size_t t = 0; t < threads; t++) core->threads.emplace_back([c = core.get()] { c->thread_main(); });
    } catch (const std::system_error&) {
      // fewer threads than asked (a thread limit): the ones running take all the work
      if (core->threads.empty()) {
        core->halt(false, false);
        core_.reset();
        throw_coded(env, "OUT_OF_MEMORY", "could not start a thread for verified reads");
      }
    }
  }

  ~UnitsPipeline() override {
    if (core_) core_->halt(true, false);
  }

 private:
  struct Core;

  struct Task {
    Core* core = nullptr;
    double id = 0;
    std::unique_ptr<UnitsJob> job;
    std::shared_ptr<Block> block;  // the buffer's memory, alive while a thread may write into it
    napi_ref out = nullptr;        // the caller's `out`, released on the JS thread
    size_t next = 0;               // next item to claim (under Core::mu)
    std::atomic<size_t> left{0};   // items not yet finished
    std::atomic<bool> failed{false};
    std::mutex err_mu;
    std::string code, msg;
    void fail(const std::string& c, const std::string& m) {
      std::lock_guard<std::mutex> lock(err_mu);
      if (!failed.load(std::memory_order_relaxed)) {
        code = c;
        msg = m;
        failed.store(true, std::memory_order_release);
      }
    }
  };

  struct Core {
    napi_env env = nullptr;
    napi_threadsafe_function tsfn = nullptr;
    std::shared_ptr<Core>* hook = nullptr;  // the cleanup hook's hold, until it runs or is removed
    std::mutex mu;
    std::condition_variable cv;
    std::deque<Task*> queue;
    bool stop = false;
    std::vector<std::thread> threads;
    size_t pending = 0;  // tasks submitted and not yet delivered (JS thread only)
    bool shut = false;   // JS thread only

    void thread_main() {
      pthread_setname_np(pthread_self(), "modelseal-units");  // 15 characters at most; seen in top -H, perf
      for (;;) {
        Task* t;
        size_t i;
        {
          std::unique_lock<std::mutex> lock(mu);
          cv.wait(lock, [this] { return stop || !queue.empty(); });
          if (stop) return;
          t = queue.front();
          i = t->next++;
          if (t->next == t->job->items()) queue.pop_front();
        }
        if (!t->failed.load(std::memory_order_acquire)) {
          try {
            t->job->run_item(i);
          } catch (const IoError& e) {
            t->fail(e.code, e.what());
          } catch (const std::bad_alloc&) {
            t->fail("OUT_OF_MEMORY", "not enough memory for verified-read buffers");
          } catch (const std::exception& e) {
            t->fail("IO_ERROR", std::string("verified read failed: ") + e.what());
          }
        }
        // the last item's thread hands the task to the JS thread; a refused call (the env is being
        // torn down) means nobody waits for it any more
        if (t->left.fetch_sub(1, std::memory_order_acq_rel) == 1 && napi_call_threadsafe_function(tsfn, t, napi_tsfn_nonblocking) != napi_ok) delete t;
      }
    }

    // On the JS thread: the digests into `out`, then done(id[, error]). Without an env (the
    // function is being torn down) only frees the task.
    static void deliver(napi_env env, napi_value done, void* /*context*/, void* data) {
      std::unique_ptr<Task> t(static_cast<Task*>(data));
      if (env == nullptr || done == nullptr || t == nullptr) return;
      Core* c = t->core;
      if (--c->pending == 0 && !c->shut) napi_unref_threadsafe_function(env, c->tsfn);
      napi_handle_scope scope;
      if (napi_open_handle_scope(env, &scope) != napi_ok) return;
      const bool failed = t->failed.load(std::memory_order_acquire);
      napi_value out = nullptr;
      if (!failed && napi_get_reference_value(env, t->out, &out) == napi_ok && out != nullptr) {
        void* data_ptr = nullptr;
        size_t length = 0;
        if (napi_get_typedarray_info(env, out, nullptr, &length, &data_ptr, nullptr, nullptr) == napi_ok && data_ptr != nullptr)
          std::memcpy(data_ptr, t->job->digests().data(), std::min(length, t->job->digests().size()));
      }
      napi_delete_reference(env, t->out);
      t->out = nullptr;
      napi_value argv[2] = {nullptr, nullptr};
      size_t argc = 1;
      napi_create_double(env, t->id, &argv[0]);
      if (failed) {
        napi_value msg, code;
        napi_create_string_utf8(env, t->msg.c_str(), t->msg.size(), &msg);
        napi_create_string_utf8(env, t->code.c_str(), t->code.size(), &code);
        napi_create_error(env, nullptr, msg, &argv[1]);
        napi_set_named_property(env, argv[1], "code", code);
        argc = 2;
      }
      napi_value recv;
      napi_get_undefined(env, &recv);
      // a throwing callback is reported as an uncaught exception by Node, as for any callback
      napi_call_function(env, recv, done, argc, argv, nullptr);
      napi_close_handle_scope(env, scope);
    }

    static void on_finalize(napi_env /*env*/, void* held, void* /*hint*/) { delete static_cast<std::shared_ptr<Core>*>(held); }

    static void on_env_teardown(void* arg) {
      auto* held = static_cast<std::shared_ptr<Core>*>(arg);
      (*held)->halt(false, true);
      delete held;
    }

    // Stops and joins the threads, fails (deliver) or frees the tasks not yet finished, and
    // releases the thread-safe function (its finalizer drops its hold on this Core). Once.
    void halt(bool deliver_aborts, bool from_hook) {
      if (shut) return;
      shut = true;
      {
        std::lock_guard<std::mutex> lock(mu);
        stop = true;
      }
      cv.notify_all();
      for (std::thread& th : threads) th.join();
      threads.clear();
      // every claimed item has finished (a thread stops only between items): what is left in the
      // queue is touched by nobody else now
      for (Task* t : queue) {
        if (deliver_aborts) {
          t->fail("ABORTED", "the verified read was stopped before it finished");
          if (napi_call_threadsafe_function(tsfn, t, napi_tsfn_nonblocking) != napi_ok) delete t;
        } else {
          delete t;
        }
      }
      queue.clear();
      if (!from_hook && hook) {
        napi_remove_env_cleanup_hook(env, &Core::on_env_teardown, hook);
        delete hook;
      }
      hook = nullptr;
      napi_release_threadsafe_function(tsfn, napi_tsfn_release);
    }
  };

  Napi::Value Submit(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    return guarded(env, "verified read", [&]() -> Napi::Value {
      if (!core_ || core_->shut) throw_coded(env, "ABORTED", "the verified-read pipeline is closed");
      if (info.Length() < 8) bad_type(env, "submit(id, fd, offsets, lengths, modes, algorithm, buffer, out, kernel?, io?) needs 8 arguments");
      if (!info[0].IsNumber()) bad_type(env, "id must be a number");
      Napi::Uint8Array buffer, out;
      // id at info[0], the shared arguments at info[1..7], kernel? at info[8], io? at info[9]
      UnitsCall c = units_call(info, 1, 8, buffer, out);
      std::shared_ptr<Block> block = block_of(buffer.ArrayBuffer().Data());
      if (!block) bad_type(env, "buffer must be an alignedBuffer()");
      auto t = std::make_unique<Task>();
      t->core = core_.get();
      t->id = info[0].As<Napi::Number>().DoubleValue();
      t->block = std::move(block);
      t->job = std::make_unique<UnitsJob>(c.fd, std::move(c.units), c.sha, c.sk, c.bk, buffer.Data(), c.io);
      const size_t items = t->job->items();
      t->left.store(items, std::memory_order_relaxed);
      if (napi_create_reference(env, out, 1, &t->out) != napi_ok) throw_coded(env, "OUT_OF_MEMORY", "could not keep the digest array");
      Core* core = core_.get();
      if (core->pending++ == 0) napi_ref_threadsafe_function(env, core->tsfn);
      {
        std::lock_guard<std::mutex> lock(core->mu);
        core->queue.push_back(t.release());
      }
      if (items > 1) core->cv.notify_all();
      else core->cv.notify_one();
      return env.Undefined();
    });
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    if (core_) core_->halt(true, false);
    return info.Env().Undefined();
  }

  std::shared_ptr<Core> core_;
};

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
    // Not reported to V8 with AdjustExternalMemory: V8 counts an external ArrayBuffer's bytes itself
    // (its backing store's accounting length) and collects for "external memory pressure" on them.
    // A second report counted each block twice, and its decrement waited for the Node-API
    // finalizer, so full collections came about twice as often: owned SHA-256 stream of 2 GiB,
    // node --trace-gc, 45-49 Mark-Compacts with the report against 27-28 without (s6-owned,
    // 2-vCPU EPYC Milan; docs/companion.md, "Owned chunks"). Memory stays bounded as before.
    return Napi::ArrayBuffer::New(env, p, static_cast<size_t>(n), [](Napi::Env, void* data) {
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
    });
  });
}

}  // namespace

void RegisterVerifiedUnits(Napi::Env env, Napi::Object exports) {
  exports.Set("verifiedUnitsAsync", Napi::Function::New(env, VerifiedUnitsAsync, "verifiedUnitsAsync"));
  exports.Set("alignedBuffer", Napi::Function::New(env, AlignedArrayBuffer, "alignedBuffer"));
  exports.Set("UnitsPipeline", UnitsPipeline::Define(env));
}

}  // namespace modelseal
