// SHA-256 of many messages at once: a lane scheduler that feeds a multi-buffer kernel.
//
// Each lane holds one message (a leaf or an in-memory buffer). Lanes advance together by the
// number of whole blocks every one of them has ready; a lane whose data runs out is refilled with
// its next read, its padding block(s), or the next message. When no messages are left to refill
// with, the remaining lanes finish on the narrower kernels of the same family (shani-x4 → x2 → x1),
// so messages of any lengths can share one call and a single huge leaf runs as one SHA-NI stream.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "io.h"
#include "sha256_impl.h"

namespace modelseal {
namespace sha256 {

struct MemInput {
  const uint8_t* data;
  size_t length;
};

// out receives 32 * n bytes, digest i at out + 32 * i.
void hash_buffers(const Kernel& k, const MemInput* inputs, size_t n, uint8_t* out);

struct FileLeaf {
  std::string path;
  uint64_t offset;
  uint64_t length;
  FileIdentity id;  // compared with the opened file (io.h)
};

// kMmap (default): hash straight from mapped windows of the page cache (faulted in as read), no copy; measured
// ~15-25% faster than pread here. A truncated file is caught (SIGBUS guard in io.h) → FILE_CHANGED.
// kPread: copy into page-aligned per-lane buffers; kept for file systems and benchmarks.
enum class IoMode { kPread, kMmap };

// Per-lane read size: the mmap window (up to 16 MiB, at most 32 MiB mapped in all), or the pread
// buffer (about 1 MiB in all, near L2: on the Zen 3 development host pread into a reused 1 MiB
// buffer ran at 7.6 GB/s, into a 16 MiB one at 6.1 GB/s, since the larger one falls out of L2).
size_t default_chunk_bytes(const Kernel& k, IoMode mode);

// Throws modelseal::IoError (native/io.h) with FILE_NOT_FOUND, FILE_UNREADABLE, FILE_CHANGED or IO_ERROR.
void hash_file_leaves(const Kernel& k, const FileLeaf* leaves, size_t n, uint8_t* out, IoMode mode,
                      size_t chunk_bytes);

}  // namespace sha256
}  // namespace modelseal
