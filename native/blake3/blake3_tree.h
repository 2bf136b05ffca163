// The BLAKE3 tree over the kernels: an incremental subtree hasher with a CV stack, and file
// ranges hashed with it. Splitting one file into aligned subtrees hashed in different workers,
// then merging their CVs with parent(), gives the same digest as hashing the file in one go.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "blake3_impl.h"

namespace modelseal {
class Fd;
class AlignedBuffer;

namespace blake3 {

// Hashes one node of the tree incrementally: a whole input (root output) or the subtree that
// starts at chunk `chunk_counter` (CV output). Bytes may arrive in pieces of any size; pieces that
// are multiples of a power-of-two number of chunks go through hash_many many chunks at a time.
//
// For a CV, the subtree must be a node of the whole input's tree: `chunk_counter` a multiple of
// its chunk count rounded up to a power of two, or the input's tail (the last, shorter piece of an
// input cut into aligned power-of-two subtrees). Then its internal shape relative to its start is
// the shape it has in the whole tree, which is what this class builds.
class Hasher {
 public:
  Hasher(const Kernel& kernel, uint64_t chunk_counter);
  void update(const uint8_t* input, size_t len);
  // The same, and stores input[0, len) to dst: whole chunks through the kernel's copy-out hash_many
  // (one load feeds the hash and the store), everything else copied first and hashed from dst.
  // Without a copy-out kernel, memcpy then update(dst). Either way the state is that of dst's bytes.
  void update_copy(const uint8_t* input, size_t len, uint8_t* dst);
  // Whether this kernel stores inside its hashing (Kernel::hash_many_copy).
  bool fuses_copy() const { return k_.hash_many_copy != nullptr; }
  // root: the 32-byte hash of everything given as one input (chunk_counter must be 0);
  // otherwise the subtree's chaining value (no ROOT flag).
  void finalize(bool root, uint8_t out[OUT_LEN]) const;

 private:
  struct Output {
    uint32_t cv[8];
    uint8_t block[BLOCK_LEN];
    uint8_t block_len;
    uint64_t counter;
    uint8_t flags;
  };
  size_t chunk_len() const { return blocks_compressed_ * BLOCK_LEN + buf_len_; }
  void chunk_update(const uint8_t* input, size_t len);
  void chunk_reset();
  Output chunk_output() const;
  Output parent_output(const uint8_t left[OUT_LEN], const uint8_t right[OUT_LEN]) const;
  void output_cv(const Output& o, uint8_t out[OUT_LEN]) const;
  void merge_stack(uint64_t chunks_before);
  void push_cv(const uint8_t cv[OUT_LEN], uint64_t chunks_before);
  // dst (copy-out updates): the subtree's bytes are stored there as they are hashed
  void subtree_cv(const uint8_t* input, uint64_t chunks, uint64_t counter, uint8_t out[OUT_LEN], uint8_t* dst = nullptr) const;
  void update_impl(const uint8_t* input, size_t len, uint8_t* dst);

  const Kernel& k_;
  const uint64_t base_;      // absolute chunk counter of this node's first chunk
  uint64_t chunks_done_ = 0; // chunks already folded into the stack (relative to base_)
  uint32_t chunk_cv_[8];     // the chunk in progress: CV after its compressed blocks,
  uint8_t buf_[BLOCK_LEN];   // and its last, not yet compressed block
  uint8_t buf_len_ = 0;
  uint8_t blocks_compressed_ = 0;
  // CVs of complete subtrees, largest first. Merged lazily (only once more input shows that the
  // top ones are not on the right edge), so that finalize can still mark the root.
  uint8_t stack_[64][OUT_LEN];
  size_t stack_len_ = 0;
};

// Hashes a whole input in memory (root) or the subtree at `chunk_counter` (CV).
void hash_bytes(const Kernel& k, const uint8_t* data, size_t len, uint64_t chunk_counter, bool root,
                uint8_t out[OUT_LEN]);

// parent(left, right) with or without ROOT: the merge of two sibling subtrees.
void parent(const Kernel& k, const uint8_t left[OUT_LEN], const uint8_t right[OUT_LEN], bool root,
            uint8_t out[OUT_LEN]);

// The root digest of an input from the CVs of its n >= 2 consecutive aligned subtrees (each a
// power-of-two number of chunks, all equal but the last, which may be shorter), in tree order: the
// left side of every parent holds the largest power of two of subtrees below n.
void merge_cvs(const Kernel& k, const uint8_t* cvs, size_t n, uint8_t out[OUT_LEN]);

// How file ranges are read (per thread; benchmarks switch it). Both sizes are powers of two
// multiples of CHUNK_LEN, so that every block or window but a range's last is whole subtrees.
enum class IoMode { Pread, Mmap };
// How blake3LeavesAsync reads a file that several of its leaves share: mapped once (Map), by pread
// blocks (Read), or mapped only when FileMapping::probe_cheap says so (Auto, the default).
enum class SharedReads { Auto, Map, Read };
struct IoOptions {
  // Mmap: ranges of at least one window are hashed straight from the page cache, mapped window by
  // window; shorter ranges are read with pread, since a map + unmap per small range costs more
  // than the copy (measured: 64 KiB leaves 2.1 GB/s by pread, 1.2 by mmap; whole 1 GiB file
  // 2.4 by 4 MiB windows, 1.9 by 1 MiB pread blocks).
  IoMode mode = IoMode::Mmap;
  size_t pread_block_bytes = size_t(1) << 20;
  size_t mmap_window_bytes = size_t(4) << 20;
  SharedReads shared = SharedReads::Auto;
};
IoOptions& io_options();

// Hashes bytes [offset, offset + len) of an open file: as a subtree CV at chunk offset/1024
// (offset % 1024 == 0) or as a whole input (root digest). Throws IoError (FILE_CHANGED on a short
// file, IO_ERROR on a read error).
void hash_file_range(const Kernel& k, const Fd& fd, uint64_t offset, uint64_t len, bool cv, AlignedBuffer& buf,
                     uint8_t out[OUT_LEN]);

// A whole regular file mapped once, read-only, without MAP_POPULATE, for the threads of one
// blake3LeavesAsync call that share its leaves. Measured on the 2-vCPU EPYC Milan host (2 GiB,
// page-cached): MAP_POPULATE windows take the same 32768 minor faults as plain faulting (the
// kernel's 64 KiB fault-around either way, as b3sum gets) but more sys time, and a munmap per
// window in a process with two hashing threads adds a TLB shootdown on the other core each time.
// Each range is released once hashed, so resident memory stays about one leaf per thread.
// data() is null when the file cannot be mapped (some file systems): callers then read with pread.
// The mapping outlives the descriptor it was made from.
class FileMapping {
 public:
  explicit FileMapping(const Fd& fd);
  ~FileMapping();
  FileMapping(const FileMapping&) = delete;
  FileMapping& operator=(const FileMapping&) = delete;
  const uint8_t* data() const { return data_; }
  uint64_t size() const { return size_; }
  // Whether [offset, offset + len) maps cheaply: one page fault maps both its first 2 MiB-aligned
  // offset and the page 1 MiB after it (large folios, mapped by PMD). When not (4 KiB folios),
  // reading with pread costs less CPU than faulting the pages in (figures at its definition), so
  // callers read that range instead. Touches two pages: call before hashing the range, on the thread
  // that hashes it, and release() the range afterwards either way. Ranges too short to hold the
  // probe count as cheap.
  bool range_cheap(uint64_t offset, uint64_t len) const;
  // Drops the page-table entries of [offset, offset + len) once it has been hashed (the whole pages
  // inside it; the page cache keeps the data). Without it a 2 GiB file counted 2.2 GB of resident
  // memory at the end of a hash (measured peakRssBytes), against 93 MB with windows.
  void release(uint64_t offset, uint64_t len) const;

 private:
  const uint8_t* data_ = nullptr;
  uint64_t size_ = 0;
};

// Like hash_file_range, from a FileMapping of the file (under guard_sigbus: a file truncated
// meanwhile is FILE_CHANGED, not a crash). `path` names the file in errors.
void hash_mapped_range(const Kernel& k, const FileMapping& map, const std::string& path, uint64_t offset, uint64_t len,
                       bool cv, uint8_t out[OUT_LEN]);

}  // namespace blake3
}  // namespace modelseal
