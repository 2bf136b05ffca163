// Progress and cancellation of one leaf batch, shared with JavaScript (LeafBatch.control in
// src/backends/types.ts): a BigInt64Array over a SharedArrayBuffer whose slot 0 is the abort flag and
// whose slot `slot` counts the bytes this batch has read. The readers call batch_progress() once per
// read window, so the caller sees progress inside one large file and an abort stops the batch within
// one window (a few MiB) instead of at the end of the file.
#pragma once

#include <cstddef>
#include <cstdint>

#include "io.h"

namespace modelseal {

struct BatchProgress {
  int64_t* counters = nullptr;
  size_t slot = 0;
};

// Set for the duration of one synchronous *Leaves call on this thread (BatchProgressScope).
inline thread_local BatchProgress g_batch_progress;

// Adds `bytes` to this batch's counter; throws IoError ABORTED once the caller raised the flag.
inline void batch_progress(size_t bytes) {
  const BatchProgress& p = g_batch_progress;
  if (p.counters == nullptr) return;
  if (__atomic_load_n(&p.counters[0], __ATOMIC_RELAXED) != 0) throw IoError("ABORTED", "hashing was aborted");
  __atomic_fetch_add(&p.counters[p.slot], static_cast<int64_t>(bytes), __ATOMIC_RELAXED);
}

class BatchProgressScope {
 public:
  explicit BatchProgressScope(BatchProgress p) { g_batch_progress = p; }
  ~BatchProgressScope() { g_batch_progress = BatchProgress{}; }
  BatchProgressScope(const BatchProgressScope&) = delete;
  BatchProgressScope& operator=(const BatchProgressScope&) = delete;
};

}  // namespace modelseal
