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

#include "sha256_kernels.h"

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
};

// pread into page-aligned per-lane buffers (default), or mmap windows with MADV_SEQUENTIAL.
// mmap is only an option for measurement: a file truncated while mapped raises SIGBUS (a crash),
// while pread reports FILE_CHANGED.
enum class IoMode { kPread, kMmap };

// Per-lane read size. Chosen so that the buffers of all lanes stay near L2 (see perf-anchors §1:
// copying into an L2-resident buffer is faster than into a large one).
size_t default_chunk_bytes(const Kernel& k);

// Throws modelseal::IoError (native/io.h) with FILE_NOT_FOUND, FILE_UNREADABLE, FILE_CHANGED or IO_ERROR.
void hash_file_leaves(const Kernel& k, const FileLeaf* leaves, size_t n, uint8_t* out, IoMode mode,
                      size_t chunk_bytes);

}  // namespace sha256
}  // namespace modelseal
