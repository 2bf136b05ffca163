// The BLAKE3 tree: chunk state, CV stack and subtree hashing over any kernel, plus file ranges.
#include "blake3_tree.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>

#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "io.h"
#include "progress.h"
#include "read_policy.h"

namespace modelseal {
namespace blake3 {

namespace {

// Subtrees up to this many chunks are hashed level by level in local buffers: all their chunks
// through hash_many, then each level of parents through hash_many. Bigger subtrees split in
// halves first; their few top parents are single compressions. 256 chunks keep the buffers small
// (8 KiB) while the partly filled SIMD groups at the top levels cost well under 1%.
constexpr uint64_t LEVEL_BATCH_CHUNKS = 256;

inline int popcount64(uint64_t x) { return __builtin_popcountll(x); }

inline uint64_t largest_pow2_at_most(uint64_t x) { return uint64_t(1) << (63 - __builtin_clzll(x)); }

}  // namespace

Hasher::Hasher(const Kernel& kernel, uint64_t chunk_counter) : k_(kernel), base_(chunk_counter) { chunk_reset(); }

void Hasher::chunk_reset() {
  std::memcpy(chunk_cv_, IV, sizeof chunk_cv_);
  buf_len_ = 0;
  blocks_compressed_ = 0;
}

void Hasher::chunk_update(const uint8_t* input, size_t len) {
  while (len > 0) {
    // Compress the buffered block only when more bytes follow: the last block needs CHUNK_END.
    if (buf_len_ == BLOCK_LEN) {
      k_.compress(chunk_cv_, buf_, BLOCK_LEN, base_ + chunks_done_, blocks_compressed_ == 0 ? CHUNK_START : 0);
      blocks_compressed_++;
      buf_len_ = 0;
    }
    const size_t take = std::min(len, BLOCK_LEN - buf_len_);
    std::memcpy(buf_ + buf_len_, input, take);
    buf_len_ = static_cast<uint8_t>(buf_len_ + take);
    input += take;
    len -= take;
  }
}

Hasher::Output Hasher::chunk_output() const {
  Output o;
  std::memcpy(o.cv, chunk_cv_, sizeof o.cv);
  std::memset(o.block, 0, BLOCK_LEN);
  std::memcpy(o.block, buf_, buf_len_);
  o.block_len = buf_len_;
  o.counter = base_ + chunks_done_;
  o.flags = static_cast<uint8_t>((blocks_compressed_ == 0 ? CHUNK_START : 0) | CHUNK_END);
  return o;
}

Hasher::Output Hasher::parent_output(const uint8_t left[OUT_LEN], const uint8_t right[OUT_LEN]) const {
  Output o;
  std::memcpy(o.cv, IV, sizeof o.cv);
  std::memcpy(o.block, left, OUT_LEN);
  std::memcpy(o.block + OUT_LEN, right, OUT_LEN);
  o.block_len = BLOCK_LEN;
  o.counter = 0;
  o.flags = PARENT;
  return o;
}

void Hasher::output_cv(const Output& o, uint8_t out[OUT_LEN]) const {
  uint32_t cv[8];
  std::memcpy(cv, o.cv, sizeof cv);
  k_.compress(cv, o.block, o.block_len, o.counter, o.flags);
  cv_to_bytes(cv, out);
}

void Hasher::merge_stack(uint64_t chunks_before) {
  // With `chunks_before` chunks to the left of what comes next, the completed subtrees on the
  // stack are exactly the set bits of chunks_before; anything above that count is a pair of
  // siblings to merge now.
  const size_t keep = static_cast<size_t>(popcount64(chunks_before));
  while (stack_len_ > keep) {
    uint8_t merged[OUT_LEN];
    output_cv(parent_output(stack_[stack_len_ - 2], stack_[stack_len_ - 1]), merged);
    std::memcpy(stack_[stack_len_ - 2], merged, OUT_LEN);
    stack_len_--;
  }
}

void Hasher::push_cv(const uint8_t cv[OUT_LEN], uint64_t chunks_before) {
  merge_stack(chunks_before);
  std::memcpy(stack_[stack_len_++], cv, OUT_LEN);
}

void Hasher::subtree_cv(const uint8_t* input, uint64_t chunks, uint64_t counter, uint8_t out[OUT_LEN], uint8_t* dst) const {
  if (chunks > LEVEL_BATCH_CHUNKS) {
    const uint64_t half = chunks / 2;
    uint8_t children[2 * OUT_LEN];
    subtree_cv(input, half, counter, children, dst);
    subtree_cv(input + half * CHUNK_LEN, half, counter + half, children + OUT_LEN, dst ? dst + half * CHUNK_LEN : nullptr);
    uint32_t cv[8];
    std::memcpy(cv, IV, sizeof cv);
    k_.compress(cv, children, BLOCK_LEN, 0, PARENT);
    cv_to_bytes(cv, out);
    return;
  }
  const uint8_t* ptrs[LEVEL_BATCH_CHUNKS] = {};
  alignas(64) uint8_t level_a[LEVEL_BATCH_CHUNKS * OUT_LEN];
  alignas(64) uint8_t level_b[LEVEL_BATCH_CHUNKS / 2 * OUT_LEN];
  size_t n = static_cast<size_t>(chunks);
  for (size_t i = 0; i < n; i++) ptrs[i] = input + i * CHUNK_LEN;
  if (dst) {
    uint8_t* dptrs[LEVEL_BATCH_CHUNKS] = {};
    for (size_t i = 0; i < n; i++) dptrs[i] = dst + i * CHUNK_LEN;
    k_.hash_many_copy(ptrs, dptrs, n, CHUNK_LEN / BLOCK_LEN, IV, counter, true, 0, CHUNK_START, CHUNK_END, level_a);
  } else {
    k_.hash_many(ptrs, n, CHUNK_LEN / BLOCK_LEN, IV, counter, true, 0, CHUNK_START, CHUNK_END, level_a);
  }
  uint8_t* cur = level_a;
  uint8_t* next = level_b;
  while (n > 1) {
    // Each parent block is two adjacent CVs of the level below.
    n /= 2;
    for (size_t i = 0; i < n; i++) ptrs[i] = cur + i * BLOCK_LEN;
    k_.hash_many(ptrs, n, 1, IV, 0, false, PARENT, 0, 0, next);
    std::swap(cur, next);
  }
  std::memcpy(out, cur, OUT_LEN);
}

void Hasher::update(const uint8_t* input, size_t len) { update_impl(input, len, nullptr); }

void Hasher::update_copy(const uint8_t* input, size_t len, uint8_t* dst) {
  if (!fuses_copy()) {
    if (len) std::memcpy(dst, input, len);
    update_impl(dst, len, nullptr);
    return;
  }
  update_impl(input, len, dst);
}

// dst null: hash input. Otherwise (a copy-out kernel) whole subtrees are hashed from input by
// hash_many_copy, which stores them to dst; every other byte is copied to dst first and hashed
// from there, so nothing of input is read twice.
void Hasher::update_impl(const uint8_t* input, size_t len, uint8_t* dst) {
  if (dst && len > 0 && chunk_len() < CHUNK_LEN && (chunk_len() > 0 || len <= CHUNK_LEN)) {
    // bytes that go into the chunk buffer (completing a partial chunk, or the last chunk): copied,
    // then hashed from the copy; whole chunks after them keep the fused path (a full buffered chunk
    // is compressed below without taking input)
    const size_t take = chunk_len() > 0 ? std::min(len, CHUNK_LEN - chunk_len()) : len;
    std::memcpy(dst, input, take);
    const size_t rest = len - take;
    update_impl(dst, take, nullptr);
    if (rest) update_impl(input + take, rest, dst + take);
    return;
  }
  if (chunk_len() > 0) {
    const size_t take = std::min(len, CHUNK_LEN - chunk_len());
    chunk_update(input, take);
    input += take;
    len -= take;
    if (len == 0) return;  // the buffered chunk may still be the last one
    uint8_t cv[OUT_LEN];
    output_cv(chunk_output(), cv);
    push_cv(cv, chunks_done_);
    chunks_done_++;
    chunk_reset();
  }
  // Whole subtrees while more than one chunk is left, each as big as both the remaining input
  // and the alignment of its position allow. The last chunk always stays for finalize.
  while (len > CHUNK_LEN) {
    uint64_t chunks = largest_pow2_at_most(len) / CHUNK_LEN;
    while ((chunks_done_ & (chunks - 1)) != 0) chunks /= 2;
    const uint64_t counter = base_ + chunks_done_;
    if (chunks == 1) {
      uint8_t cv[OUT_LEN];
      const uint8_t* p = input;
      if (dst) {
        std::memcpy(dst, input, CHUNK_LEN);
        p = dst;
      }
      k_.hash_many(&p, 1, CHUNK_LEN / BLOCK_LEN, IV, counter, true, 0, CHUNK_START, CHUNK_END, cv);
      push_cv(cv, chunks_done_);
    } else {
      // Push the two halves rather than their parent: if this subtree is all there is, its
      // parent is the root and needs the ROOT flag, which only finalize knows.
      const uint64_t half = chunks / 2;
      uint8_t left[OUT_LEN], right[OUT_LEN];
      subtree_cv(input, half, counter, left, dst);
      subtree_cv(input + half * CHUNK_LEN, half, counter + half, right, dst ? dst + half * CHUNK_LEN : nullptr);
      push_cv(left, chunks_done_);
      push_cv(right, chunks_done_ + half);
    }
    chunks_done_ += chunks;
    input += chunks * CHUNK_LEN;
    if (dst) dst += chunks * CHUNK_LEN;
    len -= static_cast<size_t>(chunks * CHUNK_LEN);
  }
  if (len > 0) {
    // A new chunk starts: the subtrees to its left are final, so finalize may fold the stack
    // straight onto it.
    merge_stack(chunks_done_);
    if (dst) {
      std::memcpy(dst, input, len);
      input = dst;
    }
    chunk_update(input, len);
  }
}

void Hasher::finalize(bool root, uint8_t out[OUT_LEN]) const {
  Output o;
  size_t remaining = stack_len_;
  if (chunk_len() > 0 || stack_len_ == 0) {
    o = chunk_output();
  } else {
    // Input ended on a pushed pair of halves: they are the last two children.
    o = parent_output(stack_[stack_len_ - 2], stack_[stack_len_ - 1]);
    remaining -= 2;
  }
  while (remaining > 0) {
    remaining--;
    uint8_t cv[OUT_LEN];
    output_cv(o, cv);
    o = parent_output(stack_[remaining], cv);
  }
  if (root) {
    // The root's counter field is the output block number (0 for the first 32 bytes).
    o.counter = 0;
    o.flags |= ROOT;
  }
  output_cv(o, out);
}

void hash_bytes(const Kernel& k, const uint8_t* data, size_t len, uint64_t chunk_counter, bool root,
                uint8_t out[OUT_LEN]) {
  Hasher h(k, chunk_counter);
  h.update(data, len);
  h.finalize(root, out);
}

void parent(const Kernel& k, const uint8_t left[OUT_LEN], const uint8_t right[OUT_LEN], bool root,
            uint8_t out[OUT_LEN]) {
  uint8_t block[BLOCK_LEN];
  std::memcpy(block, left, OUT_LEN);
  std::memcpy(block + OUT_LEN, right, OUT_LEN);
  uint32_t cv[8];
  std::memcpy(cv, IV, sizeof cv);
  k.compress(cv, block, BLOCK_LEN, 0, static_cast<uint8_t>(PARENT | (root ? ROOT : 0)));
  cv_to_bytes(cv, out);
}

namespace {

void merge_range(const Kernel& k, const uint8_t* cvs, size_t lo, size_t hi, bool root, uint8_t out[OUT_LEN]) {
  const size_t n = hi - lo;
  if (n == 1) {
    std::memcpy(out, cvs + OUT_LEN * lo, OUT_LEN);
    return;
  }
  size_t left = 1;
  while (left * 2 < n) left *= 2;
  uint8_t l[OUT_LEN], r[OUT_LEN];
  merge_range(k, cvs, lo, lo + left, false, l);
  merge_range(k, cvs, lo + left, hi, false, r);
  parent(k, l, r, root, out);
}

}  // namespace

void merge_cvs(const Kernel& k, const uint8_t* cvs, size_t n, uint8_t out[OUT_LEN]) {
  merge_range(k, cvs, 0, n, true, out);
}

IoOptions& io_options() {
  static thread_local IoOptions options;
  return options;
}

namespace {

// The default read path: the page cache mapped window by window and hashed in place, without the
// copy that pread makes (measured faster here once the kernels prefetch the next SIMD group; see
// bench/native-blake3.mjs). A file truncated while mapped would raise SIGBUS on the next page
// touched: the hashing runs under guard_sigbus (native/io.h) and reports FILE_CHANGED instead.
struct MappedJob {
  Hasher* hasher;
  const uint8_t* data;
  size_t len;
};

void hash_mapped_job(void* arg) {
  MappedJob* job = static_cast<MappedJob*>(arg);
  job->hasher->update(job->data, job->len);
}

// Maps the range window by window (each a power-of-two number of chunks, like the pread blocks,
// so the CV stack carries the tree across windows). No MAP_POPULATE, for the reason measured in
// sha256/sha256_lanes.cc (populating marks every page accessed under the LRU lock and holds the
// mmap lock per window; faulting in as read cost less system time in 6 of 6 paired BLAKE3 runs on
// the 2-vCPU EPYC Milan VM, notes of the s2-blake3 branch).
void hash_mapped(const Fd& fd, uint64_t offset, uint64_t len, size_t window, AlignedBuffer& buf, Hasher& h) {
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) throw IoError("IO_ERROR", "cannot stat " + fd.path() + ": " + std::strerror(errno));
  if (static_cast<uint64_t>(st.st_size) < offset + len)
    throw IoError("FILE_CHANGED", fd.path() + " became shorter while it was being hashed");
  const uint64_t page = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
  uint64_t pos = offset;
  uint64_t left = len;
  while (left > 0) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(left, window));
    batch_progress(n);
    const uint64_t start = pos & ~(page - 1);
    const size_t map_len = static_cast<size_t>(pos + n - start);
    void* p = ::mmap(nullptr, map_len, PROT_READ, MAP_PRIVATE, fd.get(), static_cast<off_t>(start));
    if (p == MAP_FAILED) {
      // Some file systems cannot map files (ENODEV); others run out of map space: read instead.
      buf.reserve(n);
      fd.pread_full(buf.data(), n, pos);
      h.update(buf.data(), n);
      pos += n;
      left -= n;
      continue;
    }
    ::madvise(p, map_len, MADV_SEQUENTIAL);
    MappedJob job{&h, static_cast<const uint8_t*>(p) + (pos - start), n};
    const bool ok = guard_sigbus(hash_mapped_job, &job);
    ::munmap(p, map_len);
    if (!ok) throw IoError("FILE_CHANGED", fd.path() + " became shorter while it was being hashed");
    pos += n;
    left -= n;
  }
}

}  // namespace

void hash_file_range(const Kernel& k, const Fd& fd, uint64_t offset, uint64_t len, bool cv, AlignedBuffer& buf,
                     uint8_t out[OUT_LEN]) {
  Hasher h(k, cv ? offset / CHUNK_LEN : 0);
  const IoOptions& opt = io_options();
  // Memory short: pread blocks with bounded readahead instead of mapped windows (read_policy.h).
  const bool low_memory = low_memory_reads();
  if (low_memory) low_memory_begin(fd.get());
  if (!low_memory && opt.mode == IoMode::Mmap && len >= opt.mmap_window_bytes) {
    hash_mapped(fd, offset, len, opt.mmap_window_bytes, buf, h);
  } else {
    // Blocks of a power-of-two number of chunks, so that every block but the last is one or two
    // whole subtrees for the hasher: the CV stack carries the tree across blocks.
    const size_t block = opt.pread_block_bytes;
    buf.reserve(block);
    LowMemoryReader low_reader;
    uint64_t pos = offset;
    uint64_t left = len;
    while (left > 0) {
      const size_t n = static_cast<size_t>(std::min<uint64_t>(left, block));
      batch_progress(n);
      if (low_memory)
        low_reader.read(fd, buf.data(), n, pos, left - n, pos == offset);
      else
        fd.pread_full(buf.data(), n, pos);
      h.update(buf.data(), n);
      pos += n;
      left -= n;
    }
  }
  h.finalize(!cv, out);
}

FileMapping::FileMapping(const Fd& fd) {
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) throw IoError("IO_ERROR", "cannot stat " + fd.path() + ": " + std::strerror(errno));
  size_ = static_cast<uint64_t>(st.st_size);
  if (size_ == 0) return;
  void* p = ::mmap(nullptr, static_cast<size_t>(size_), PROT_READ, MAP_PRIVATE, fd.get(), 0);
  if (p == MAP_FAILED) return;  // data() stays null: the caller reads with pread instead
  ::madvise(p, static_cast<size_t>(size_), MADV_SEQUENTIAL);
  data_ = static_cast<const uint8_t*>(p);
}

namespace {

struct TouchJob {
  const volatile uint8_t* a;
  const volatile uint8_t* b;
};

void touch_two(void* arg) {
  const TouchJob* job = static_cast<const TouchJob*>(arg);
  (void)*job->a;
  (void)*job->b;
}

}  // namespace

bool FileMapping::range_cheap(uint64_t offset, uint64_t len) const {
  if (data_ == nullptr) return false;
#if defined(RUSAGE_THREAD)
  // Touch the first 2 MiB-aligned offset of the range and the page 1 MiB after it, and count this
  // thread's page faults: a page cache of 2 MiB folios maps both with one fault (a PMD), 4 KiB folios
  // take two (the kernel's fault-around maps 64 KiB per fault), as does a part of the file read back
  // in small folios. Per range, not per file: a file's page cache can be mixed after memory pressure.
  // Measured on the 2-vCPU EPYC Milan VM (6.18, ext4), 2 GiB hashed by one thread, in-process:
  // 2 MiB folios (written in 2 MiB blocks) mapped 0.60 s CPU vs 0.74 s by 1 MiB pread (the copy);
  // 4 KiB folios (written through a pipe) mapped 0.89-0.90 s vs 0.81 s by pread (faults and PTE
  // teardown in sys, and 0.09 s more user time: the mapped bytes come through 4 KiB TLB entries).
  constexpr uint64_t PMD = uint64_t(2) << 20;
  const uint64_t a = (offset + PMD - 1) & ~(PMD - 1);
  const uint64_t b = a + PMD / 2;
  // Too short to hold the probe: mapped, as before (the tail of a file, small leaves).
  if (b >= offset + len || b >= size_) return true;
  struct rusage before, after;
  if (::getrusage(RUSAGE_THREAD, &before) != 0) return true;
  TouchJob job{data_ + a, data_ + b};
  if (!guard_sigbus(touch_two, &job)) return false;  // shrunk already: the pread path reports it
  if (::getrusage(RUSAGE_THREAD, &after) != 0) return true;
  const long faults = (after.ru_minflt - before.ru_minflt) + (after.ru_majflt - before.ru_majflt);
  return faults <= 1;
#else
  (void)offset;
  (void)len;
  return true;
#endif
}

FileMapping::~FileMapping() {
  if (data_) ::munmap(const_cast<uint8_t*>(data_), static_cast<size_t>(size_));
}

void FileMapping::release(uint64_t offset, uint64_t len) const {
  if (data_ == nullptr) return;
  const uint64_t page = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
  const uint64_t start = (offset + page - 1) & ~(page - 1);
  const uint64_t end = std::min(offset + len, size_) & ~(page - 1);
  if (end > start) ::madvise(const_cast<uint8_t*>(data_) + start, static_cast<size_t>(end - start), MADV_DONTNEED);
}

void hash_mapped_range(const Kernel& k, const FileMapping& map, const std::string& path, uint64_t offset, uint64_t len,
                       bool cv, uint8_t out[OUT_LEN]) {
  if (map.data() == nullptr || offset + len > map.size())
    throw IoError("FILE_CHANGED", path + " became shorter while it was being hashed");
  Hasher h(k, cv ? offset / CHUNK_LEN : 0);
  // Progress and abort in steps of one window, as hash_mapped does.
  const size_t step = io_options().mmap_window_bytes;
  uint64_t pos = offset;
  uint64_t left = len;
  while (left > 0) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(left, step));
    batch_progress(n);
    MappedJob job{&h, map.data() + pos, n};
    if (!guard_sigbus(hash_mapped_job, &job)) throw IoError("FILE_CHANGED", path + " became shorter while it was being hashed");
    pos += n;
    left -= n;
  }
  h.finalize(!cv, out);
}

}  // namespace blake3
}  // namespace modelseal
