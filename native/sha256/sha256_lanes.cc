#include "sha256_lanes.h"

#include <sys/mman.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>

#include "io.h"
#include "progress.h"
#include "read_policy.h"

namespace modelseal {
namespace sha256 {

namespace {

constexpr int kMaxLanes = kMaxKernelLanes;

struct Lane {
  alignas(64) uint32_t state[8];
  alignas(64) uint8_t pad[128];  // the last partial block plus padding (1 or 2 blocks)
  const uint8_t* ptr = nullptr;   // current segment: `blocks` whole blocks ready to compress
  size_t blocks = 0;
  size_t job = 0;
  uint64_t pos = 0;    // bytes of the message fetched so far
  uint64_t total = 0;  // message length
  int phase = 0;       // 0: reading data, 1: padding ready, 2: padding handed out
  int tail_blocks = 0;
  bool active = false;
};

// Final block(s): the r < 64 trailing bytes, 0x80, zeros, and the bit length as 64-bit big-endian.
// The caller has copied the r trailing bytes to L.pad already.
void make_tail(Lane& L, size_t r) {
  std::memset(L.pad + r, 0, sizeof L.pad - r);
  L.pad[r] = 0x80;
  L.tail_blocks = (r + 9 <= 64) ? 1 : 2;
  const uint64_t bits = L.total * 8;
  uint8_t* len = L.pad + 64 * L.tail_blocks - 8;
  for (int i = 0; i < 8; ++i) len[i] = static_cast<uint8_t>(bits >> (56 - 8 * i));
}

// Source concept:
//   uint64_t begin(int lane, size_t job): opens message `job` on `lane`, returns its length;
//   const uint8_t* fetch(int lane, size_t job, uint64_t pos, uint64_t rest, size_t* got): the next
//     got ≤ rest bytes of the message; got is a multiple of 64 unless got == rest;
//   compress(fn, states, data, nblocks) and copy(dst, src, n): every read of fetched memory goes
//     through these, so that a source whose memory can fault (mmap) can guard the reads.
template <class Src>
class Scheduler {
 public:
  Scheduler(const Kernel& k, Src& src, size_t njobs, uint8_t* out)
      : k_(k), src_(src), njobs_(njobs), out_(out), pad_from_(pad_threshold(k)) {}

  void run() {
    const int width = k_.widths[0];
    for (int i = 0; i < width; ++i) start(i);
    uint32_t scratch[kMaxLanes][8];
    for (;;) {
      int act[kMaxLanes];
      int na = 0;
      for (int i = 0; i < width; ++i)
        if (lanes_[i].active) act[na++] = i;
      if (na == 0) break;

      // Widest kernel of the family that the active lanes fill, or (vector families with enough
      // active lanes) the narrowest that holds them all, padded with dummy lanes.
      int fi = k_.n_widths - 1;
      if (na >= pad_from_) {
        fi = 0;  // narrowest width that holds every active lane
        for (int j = 1; j < k_.n_widths; ++j)
          if (k_.widths[j] >= na) fi = j;
      } else {
        for (int j = 0; j < k_.n_widths; ++j)
          if (k_.widths[j] <= na) {
            fi = j;
            break;
          }
      }
      const int w = k_.widths[fi];
      const int real = std::min(w, na);
      size_t n = SIZE_MAX;
      for (int j = 0; j < real; ++j) n = std::min(n, lanes_[act[j]].blocks);

      uint32_t* states[kMaxLanes];
      const uint8_t* ptrs[kMaxLanes];
      for (int j = 0; j < w; ++j) {
        if (j < real) {
          states[j] = lanes_[act[j]].state;
          ptrs[j] = lanes_[act[j]].ptr;
        } else {  // dummy lane: recompute lane 0's data into a scratch state that is thrown away
          std::memcpy(scratch[j], IV256, sizeof scratch[j]);
          states[j] = scratch[j];
          ptrs[j] = lanes_[act[0]].ptr;
        }
      }
      src_.compress(k_.fns[fi], states, ptrs, n);

      for (int j = 0; j < real; ++j) {
        const int i = act[j];
        Lane& L = lanes_[i];
        L.ptr += 64 * n;
        L.blocks -= n;
        if (L.blocks == 0 && !advance(i)) {
          finish(L);
          start(i);
        }
      }
    }
  }

 private:
  void start(int i) {
    Lane& L = lanes_[i];
    L.active = false;
    if (next_ >= njobs_) return;
    L.job = next_++;
    L.total = src_.begin(i, L.job);
    L.pos = 0;
    L.phase = 0;
    std::memcpy(L.state, IV256, sizeof L.state);
    L.active = true;
    advance(i);  // every message has at least its padding block, so this always yields a segment
  }

  // Points the lane at its next segment; false when the message is complete.
  bool advance(int i) {
    Lane& L = lanes_[i];
    if (L.phase == 0) {
      if (L.pos < L.total) {
        const uint64_t rest = L.total - L.pos;
        size_t got = 0;
        const uint8_t* p = src_.fetch(i, L.job, L.pos, rest, &got);
        const size_t full = got & ~size_t(63);
        L.pos += got;
        if (got == rest) {
          // Copied now: the next fetch may reuse the buffer.
          src_.copy(L.pad, p + full, got - full);
          make_tail(L, got - full);
          L.phase = 1;
        }
        if (full) {
          L.ptr = p;
          L.blocks = full / 64;
          return true;
        }
      } else {  // empty message
        make_tail(L, 0);
        L.phase = 1;
      }
    }
    if (L.phase == 1) {
      L.ptr = L.pad;
      L.blocks = static_cast<size_t>(L.tail_blocks);
      L.phase = 2;
      return true;
    }
    return false;
  }

  void finish(const Lane& L) {
    uint8_t* d = out_ + 32 * L.job;
    for (int i = 0; i < 8; ++i) {
      d[4 * i] = static_cast<uint8_t>(L.state[i] >> 24);
      d[4 * i + 1] = static_cast<uint8_t>(L.state[i] >> 16);
      d[4 * i + 2] = static_cast<uint8_t>(L.state[i] >> 8);
      d[4 * i + 3] = static_cast<uint8_t>(L.state[i]);
    }
  }

  const Kernel& k_;
  Src& src_;
  size_t njobs_;
  uint8_t* out_;
  size_t next_ = 0;
  int pad_from_;
  Lane lanes_[kMaxLanes];
};

// Sources whose memory cannot fault (JS buffers, pread buffers) compress and copy directly.
struct PlainAccess {
  void compress(MultiFn fn, uint32_t* const* states, const uint8_t* const* data, size_t nblocks) {
    fn(states, data, nblocks);
  }
  void copy(uint8_t* dst, const uint8_t* src, size_t n) {
    if (n) std::memcpy(dst, src, n);
  }
};

struct MemSource : PlainAccess {
  const MemInput* inputs;
  uint64_t begin(int, size_t job) { return inputs[job].length; }
  const uint8_t* fetch(int, size_t job, uint64_t pos, uint64_t rest, size_t* got) {
    *got = static_cast<size_t>(rest);
    return inputs[job].data + pos;
  }
};

// Read buffers are kept per thread (each pool worker calls synchronously), so a call does not pay
// for fresh pages; they are page-aligned because unaligned copy destinations are 4-5x slower here.
AlignedBuffer& lane_buffer(int lane, size_t bytes) {
  thread_local std::unique_ptr<AlignedBuffer> buffers[kMaxLanes];
  if (!buffers[lane]) buffers[lane] = std::make_unique<AlignedBuffer>();
  buffers[lane]->reserve(bytes);
  return *buffers[lane];
}

// One open file per lane, reopened only when the lane's next leaf is in another file (shards of
// one file reuse the descriptor); at most 8 descriptors are open at a time.
struct LaneFiles {
  std::unique_ptr<Fd> fd[kMaxLanes];
  Fd& open(int lane, const FileLeaf& leaf) {
    if (!fd[lane] || fd[lane]->path() != leaf.path) {
      fd[lane].reset();
      fd[lane] = std::make_unique<Fd>(leaf.path, leaf.id);
    }
    return *fd[lane];
  }
};

struct PreadSource : PlainAccess {
  const FileLeaf* leaves;
  size_t chunk;
  bool low_memory = false;  // read_policy.h
  LowMemoryReader low_reader[kMaxLanes];
  LaneFiles files;
  uint64_t begin(int lane, size_t job) {
    files.open(lane, leaves[job]);
    if (low_memory) low_memory_begin(files.fd[lane]->get());
    return leaves[job].length;
  }
  const uint8_t* fetch(int lane, size_t job, uint64_t pos, uint64_t rest, size_t* got) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(rest, chunk));
    batch_progress(n);
    AlignedBuffer& buf = lane_buffer(lane, chunk);
    if (low_memory)
      low_reader[lane].read(*files.fd[lane], buf.data(), n, leaves[job].offset + pos, rest - n, pos == 0);
    else
      files.fd[lane]->pread_full(buf.data(), n, leaves[job].offset + pos);
    *got = n;
    return buf.data();
  }
};

// Maps each read window of a leaf and hashes straight out of the page cache; the pages fault in as
// the kernel reads them (the kernel's fault-around maps 16 pages per fault, as b3sum relies on).
// No MAP_POPULATE: on the 2-vCPU EPYC Milan VM (Linux 6.18, ext4, 4 KiB page-cache folios) populating
// went through get_user_pages, which marks every page accessed (LRU lock, contended between two
// workers) and holds the mmap lock for the whole window, so a second worker's mmap/munmap waited:
// touching every page of a page-cached 2 GiB file in 16 MiB windows cost 0.38-0.57 s of system time
// populated against 0.25-0.33 s faulted (window size and MAP_SHARED made no difference), and two
// workers hashing 4 x 2 GiB spent 1.53 s of system time against 1.06-1.33 s. Where the page cache
// holds large folios the faulted mapping is nearly free (bench/native-sha256.mjs: mapped = in memory).
// Reads of the mapping run under guard_sigbus so that a file truncated meanwhile is FILE_CHANGED,
// not a crash. Pieces under kMinMapBytes are copied with pread instead: mmap + munmap cost more than the copy below about 1 MiB (measured here: 16 KiB
// leaves 0.9 vs 1.8 GB/s, 1 MiB equal, 4 MiB 2.4 vs 1.9); so are files that cannot be mapped.
struct MmapSource {
  static constexpr size_t kMinMapBytes = size_t(1) << 20;
  const FileLeaf* leaves;
  size_t window;
  LaneFiles files;
  void* base[kMaxLanes] = {};
  size_t len[kMaxLanes] = {};
  size_t job_of[kMaxLanes] = {};
  ~MmapSource() {
    for (int i = 0; i < kMaxLanes; ++i) unmap(i);
  }
  void unmap(int lane) {
    if (base[lane]) ::munmap(base[lane], len[lane]);
    base[lane] = nullptr;
  }
  uint64_t begin(int lane, size_t job) {
    Fd& fd = files.open(lane, leaves[job]);
    job_of[lane] = job;
    if (leaves[job].length < kMinMapBytes) return leaves[job].length;  // read by pread only
    struct stat st;
    if (::fstat(fd.get(), &st) != 0) throw IoError("IO_ERROR", "cannot stat " + fd.path() + ": " + std::strerror(errno));
    if (static_cast<uint64_t>(st.st_size) < leaves[job].offset + leaves[job].length)
      throw IoError("FILE_CHANGED", fd.path() + " is shorter than the range planned for it: it changed after the model was listed; hash it again once nothing is writing to it");
    return leaves[job].length;
  }
  const uint8_t* fetch(int lane, size_t job, uint64_t pos, uint64_t rest, size_t* got) {
    unmap(lane);
    const size_t n = static_cast<size_t>(std::min<uint64_t>(rest, window));
    batch_progress(n);
    const uint64_t off = leaves[job].offset + pos;
    const uint64_t aligned = off & ~uint64_t(4095);
    const size_t delta = static_cast<size_t>(off - aligned);
    *got = n;
    void* p = n < kMinMapBytes ? MAP_FAILED
                               : ::mmap(nullptr, delta + n, PROT_READ, MAP_PRIVATE, files.fd[lane]->get(),
                                        static_cast<off_t>(aligned));
    if (p == MAP_FAILED) {  // small, or not mappable: copy
      AlignedBuffer& buf = lane_buffer(lane, n);
      files.fd[lane]->pread_full(buf.data(), n, off);
      return buf.data();
    }
    base[lane] = p;
    len[lane] = delta + n;
    return static_cast<const uint8_t*>(p) + delta;
  }

  struct CompressArgs {
    MultiFn fn;
    uint32_t* const* states;
    const uint8_t* const* data;
    size_t nblocks;
  };
  struct CopyArgs {
    uint8_t* dst;
    const uint8_t* src;
    size_t n;
  };
  void compress(MultiFn fn, uint32_t* const* states, const uint8_t* const* data, size_t nblocks) {
    CompressArgs a{fn, states, data, nblocks};
    guarded([](void* p) {
      auto* c = static_cast<CompressArgs*>(p);
      c->fn(c->states, c->data, c->nblocks);
    }, &a);
  }
  void copy(uint8_t* dst, const uint8_t* src, size_t n) {
    CopyArgs a{dst, src, n};
    guarded([](void* p) {
      auto* c = static_cast<CopyArgs*>(p);
      std::memcpy(c->dst, c->src, c->n);
    }, &a);
  }
  void guarded(void (*fn)(void*), void* arg) {
    void* fault = nullptr;
    if (guard_sigbus(fn, arg, &fault)) return;
    std::string path = "a file";
    for (int i = 0; i < kMaxLanes; ++i) {
      const auto b = reinterpret_cast<uintptr_t>(base[i]), f = reinterpret_cast<uintptr_t>(fault);
      if (b && f >= b && f < b + len[i]) path = leaves[job_of[i]].path;
    }
    throw IoError("FILE_CHANGED", path + " became shorter while it was being hashed; hash it again once nothing is writing to it");
  }
};

}  // namespace

void hash_buffers(const Kernel& k, const MemInput* inputs, size_t n, uint8_t* out) {
  MemSource src;
  src.inputs = inputs;
  Scheduler<MemSource>(k, src, n, out).run();
}

size_t default_chunk_bytes(const Kernel& k, IoMode mode) {
  // mmap: windows as large as possible (fewer mmap/munmap calls: 16 MiB windows hashed 16 MiB
  // leaves at the in-memory rate, 4 MiB ones ~5% slower), but at most 32 MiB mapped per thread,
  // since mapped page-cache pages count in the process's RSS.
  if (mode == IoMode::kMmap) {
    const size_t per = (size_t(32) << 20) / static_cast<size_t>(k.widths[0]);
    return std::min<size_t>(std::max<size_t>(per, size_t(2) << 20), size_t(16) << 20);
  }
  // pread: about 1 MiB of buffers in total (one core's L2 here), at least 128 KiB per lane.
  const size_t per = (size_t(1) << 20) / static_cast<size_t>(k.widths[0]);
  return std::max<size_t>(per, size_t(128) << 10);
}

void hash_file_leaves(const Kernel& k, const FileLeaf* leaves, size_t n, uint8_t* out, IoMode mode,
                      size_t chunk_bytes) {
  // Memory short: small pread pieces with bounded readahead instead of mapped windows (read_policy.h).
  const bool low_memory = low_memory_reads();
  if (low_memory && mode == IoMode::kMmap) {
    mode = IoMode::kPread;
    chunk_bytes = default_chunk_bytes(k, mode);
  }
  chunk_bytes = std::max<size_t>(chunk_bytes & ~size_t(4095), 4096);  // whole pages, so whole blocks
  if (mode == IoMode::kMmap) {
    MmapSource src;
    src.leaves = leaves;
    src.window = chunk_bytes;
    Scheduler<MmapSource>(k, src, n, out).run();
  } else {
    PreadSource src;
    src.leaves = leaves;
    src.chunk = chunk_bytes;
    src.low_memory = low_memory;
    Scheduler<PreadSource>(k, src, n, out).run();
  }
}

}  // namespace sha256
}  // namespace modelseal
