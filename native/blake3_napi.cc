// JS bindings of the native BLAKE3: file leaves (subtree CVs or whole-range digests) read with
// pread into page-aligned memory, bytes in memory, parent merges, and kernel introspection.
// Every failure is a JS error with a `code` (native/napi_args.h): TypeError / RangeError (code
// BAD_ARGUMENT) naming the argument, KERNEL_UNAVAILABLE, or the I/O codes of native/io.h.
#include <algorithm>
#include <atomic>
#include <cstring>
#include <memory>
#include <mutex>
#include <system_error>
#include <thread>
#include <unordered_map>
#include <string>
#include <vector>

#include "blake3/blake3_impl.h"
#include "blake3/blake3_tree.h"
#include "io.h"
#include "kernel_args.h"
#include "napi_args.h"
#include "progress_napi.h"
#include "read_policy.h"
#include "registry.h"
#include "threaded_leaves.h"

namespace modelseal {

namespace {

using blake3::Kernel;
using blake3::OUT_LEN;

Napi::Uint8Array new_bytes(Napi::Env env, const uint8_t* p, size_t n) {
  Napi::ArrayBuffer ab = Napi::ArrayBuffer::New(env, n);
  std::memcpy(ab.Data(), p, n);
  return Napi::Uint8Array::New(env, n, ab, 0);
}

// One leaf of a blake3Leaves call, checked and copied out of the JS arrays.
struct LeafArgs {
  std::string path;
  uint64_t offset, length;
  bool cv;
  FileIdentity id;
};

// The checked arguments of blake3Leaves / blake3LeavesAsync (the same first eight arguments).
struct ParsedLeaves {
  std::vector<LeafArgs> leaves;
  const Kernel* kernel;
  Napi::Uint8Array out;
  Napi::Value control;
};

// blake3Leaves(paths, offsets, lengths, cvFlags, out, kernel?, identities?, control?)
// identities: Float64Array [dev0, ino0, ...] as the walk saw the files; NaN where there is no record.
// control: LeafBatch.control (progress inside a file, abort).
ParsedLeaves parse_leaves(const Napi::CallbackInfo& info, const char* fn) {
  Napi::Env env = info.Env();
  if (info.Length() < 5) bad_type(env, std::string(fn) + "(paths, offsets, lengths, cvFlags, out, kernel?) needs 5 arguments");
  if (!info[0].IsArray()) bad_type(env, "paths must be an array of strings");
  if (!info[1].IsArray()) bad_type(env, "offsets must be an array of numbers");
  if (!info[2].IsArray()) bad_type(env, "lengths must be an array of numbers");
  Napi::Array paths = info[0].As<Napi::Array>();
  Napi::Array offsets = info[1].As<Napi::Array>();
  Napi::Array lengths = info[2].As<Napi::Array>();
  const size_t n = paths.Length();
  if (offsets.Length() != n) bad_range(env, "offsets must have one entry per path");
  if (lengths.Length() != n) bad_range(env, "lengths must have one entry per path");
  Napi::Uint8Array flags = u8_arg(env, info[3], "cvFlags");
  if (flags.ByteLength() != n) bad_range(env, "cvFlags must have one entry per path");
  Napi::Uint8Array out = u8_arg(env, info[4], "out");
  if (out.ByteLength() < OUT_LEN * n) bad_range(env, "out must hold 32 bytes per leaf (" + std::to_string(OUT_LEN * n) + ")");
  const Kernel& k = blake3_kernel_arg(env, info[5]);

  const double* ids = info.Length() > 6 && !info[6].IsNull() ? identities_arg(env, info[6], n, "identities") : nullptr;
  std::vector<LeafArgs> leaves(n);
  for (size_t i = 0; i < n; i++) {
    const std::string idx = "[" + std::to_string(i) + "]";
    Napi::Value p = paths[i];
    if (!p.IsString()) bad_type(env, "paths" + idx + " must be a string");
    leaves[i].path = p.As<Napi::String>().Utf8Value();
    leaves[i].offset = safe_u64(env, offsets[i], "offsets" + idx);
    leaves[i].length = safe_u64(env, lengths[i], "lengths" + idx);
    const uint8_t f = flags.Data()[i];
    if (f > 1) bad_range(env, "cvFlags" + idx + " must be 0 (digest) or 1 (cv)");
    leaves[i].cv = f == 1;
    if (ids && ids[2 * i] == ids[2 * i] && ids[2 * i + 1] == ids[2 * i + 1]) leaves[i].id = {true, ids[2 * i], ids[2 * i + 1]};
    if (leaves[i].offset + leaves[i].length > static_cast<uint64_t>(kMaxSafeInteger))
      bad_range(env, "offsets" + idx + " + lengths" + idx + " exceeds the largest safe integer");
    if (leaves[i].cv && leaves[i].offset % blake3::CHUNK_LEN != 0)
      bad_range(env, "offsets" + idx + " must be a multiple of 1024 for a 'cv' leaf (got " +
                           std::to_string(leaves[i].offset) + ")");
    if (leaves[i].cv && leaves[i].length == 0)
      bad_range(env, "lengths" + idx + " must be positive for a 'cv' leaf (an empty file is one 'digest' leaf)");
  }
  Napi::Value control = info.Length() > 7 ? info[7] : env.Undefined();
  return {std::move(leaves), &k, out, control};
}

Napi::Value Blake3Leaves(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ParsedLeaves a = parse_leaves(info, "blake3Leaves");
  const BatchProgress control = batch_progress_arg(env, a.control);
  // One page-aligned read buffer per thread, reused across calls; the file stays open while
  // consecutive leaves name the same path.
  static thread_local AlignedBuffer buf;
  uint8_t* dst = a.out.Data();
  return guarded(env, "BLAKE3", [&]() -> Napi::Value {
    BatchProgressScope progress(control);
    std::unique_ptr<Fd> fd;
    for (size_t i = 0; i < a.leaves.size(); i++) {
      const LeafArgs& l = a.leaves[i];
      if (!fd || fd->path() != l.path) {
        fd.reset();
        fd = std::make_unique<Fd>(l.path, l.id);
      }
      blake3::hash_file_range(*a.kernel, *fd, l.offset, l.length, l.cv, buf, dst + OUT_LEN * i);
    }
    return env.Undefined();
  });
}

// blake3LeavesAsync(paths, offsets, lengths, cvFlags, out, kernel?, identities?, control?, threads?)
//   -> Promise<undefined>
// The leaves of blake3Leaves hashed off the JS thread by `threads` native threads (default 1),
// which take leaves one at a time from a shared counter, so that one big file split into subtree
// leaves keeps every thread busy to the end. Outputs land in `out` as with blake3Leaves, so the
// digests are the same bytes. This replaces a pool of worker threads for BLAKE3: a worker is a
// fresh V8 isolate that loads the modules and the addon again (~0.13 s CPU each, measured on the
// 2-vCPU EPYC Milan host), where a native thread costs microseconds. All threads add their bytes
// to the one progress slot of `control`; an abort or the first error stops every thread within
// one read window. The promise rejects with the same coded errors as blake3Leaves.
class LeavesWorker : public ThreadedLeavesWorker {
 public:
  LeavesWorker(Napi::Env env, ParsedLeaves&& a, BatchProgress control, size_t threads)
      : ThreadedLeavesWorker(env, "modelseal:blake3LeavesAsync", "BLAKE3", a.out, a.control, control),
        leaves_(std::move(a.leaves)),
        kernel_(*a.kernel),
        dst_(a.out.Data()),
        io_(blake3::io_options()) {
    threads_ = std::min(threads, std::max<size_t>(leaves_.size(), 1));
    // Files with several leaves are mapped once and shared (FileMapping); each leaf is hashed from the
    // mapping where its page cache maps cheaply, else by pread blocks (io_.shared, range_cheap); single-leaf files are
    // read per thread as blake3Leaves reads them, so a model of many small files never holds many
    // descriptors or mappings at once. Memory short (read_policy.h): no shared mappings; every
    // leaf takes hash_file_range's bounded-read path, which applies the low-memory rule itself.
    std::unordered_map<std::string, size_t> count;
    if (!low_memory_reads())
      for (const LeafArgs& l : leaves_) count[l.path]++;
    std::unordered_map<std::string, size_t> index;
    file_of_.assign(leaves_.size(), kNoFile);
    for (size_t i = 0; i < leaves_.size(); i++) {
      if (count[leaves_[i].path] < 2) continue;
      auto it = index.find(leaves_[i].path);
      if (it == index.end()) {
        it = index.emplace(leaves_[i].path, files_.size()).first;
        files_.push_back(std::make_unique<SharedFile>());
        files_.back()->remaining.store(count[leaves_[i].path]);
      }
      file_of_[i] = it->second;
    }
  }

 private:
  void run() override {
    blake3::io_options() = io_;
    AlignedBuffer buf;
    std::unique_ptr<Fd> fd;
    for (size_t i; (i = claim(leaves_.size())) != kNone;) {
      const LeafArgs& l = leaves_[i];
      uint8_t* out = dst_ + OUT_LEN * i;
      SharedFile* sf = file_of_[i] == kNoFile ? nullptr : files_[file_of_[i]].get();
      if (sf) {
        {
          std::lock_guard<std::mutex> lock(sf->mu);
          if (!sf->tried) {
            // A failed open leaves no mapping: the pread path below reopens and reports it.
            sf->tried = true;
            if (io_.shared == blake3::SharedReads::Read) {
              sf->read = true;
            } else {
              Fd file(l.path, l.id);
              sf->map = std::make_unique<blake3::FileMapping>(file);
            }
          }
        }
        // The mapping lives until this file's last leaf is done (or the call ends), so reading it
        // without the lock is safe.
        if (sf->map && sf->map->data()) {
          // A range whose page cache is in small folios is read with pread instead (range_cheap).
          if (io_.shared == blake3::SharedReads::Map || sf->map->range_cheap(l.offset, l.length)) {
            blake3::hash_mapped_range(kernel_, *sf->map, l.path, l.offset, l.length, l.cv, out);
          } else {
            if (!fd || fd->path() != l.path) {
              fd.reset();
              fd = std::make_unique<Fd>(l.path, l.id);
            }
            read_range(*fd, l, buf, out);
          }
          sf->map->release(l.offset, l.length);
          if (sf->remaining.fetch_sub(1) == 1) {
            std::lock_guard<std::mutex> lock(sf->mu);
            sf->map.reset();
          }
          continue;
        }
      }
      if (!fd || fd->path() != l.path) {
        fd.reset();
        fd = std::make_unique<Fd>(l.path, l.id);
      }
      if (sf && sf->read) {
        read_range(*fd, l, buf, out);  // set under the file's lock above, before any thread gets here
        continue;
      }
      blake3::hash_file_range(kernel_, *fd, l.offset, l.length, l.cv, buf, out);
    }
  }

  // A shared file's leaf by pread blocks (io_.pread_block_bytes, 1 MiB) rather than mapped windows.
  void read_range(const Fd& fd, const LeafArgs& l, AlignedBuffer& buf, uint8_t* out) {
    blake3::io_options().mode = blake3::IoMode::Pread;
    blake3::hash_file_range(kernel_, fd, l.offset, l.length, l.cv, buf, out);
    blake3::io_options().mode = io_.mode;
  }

  struct SharedFile {
    std::mutex mu;
    bool tried = false;
    bool read = false;  // sharedFiles 'read': every leaf of the file by pread, no mapping
    std::unique_ptr<blake3::FileMapping> map;
    std::atomic<size_t> remaining{0};
  };
  static constexpr size_t kNoFile = ~size_t(0);

  const std::vector<LeafArgs> leaves_;
  std::vector<size_t> file_of_;
  std::vector<std::unique_ptr<SharedFile>> files_;
  const Kernel& kernel_;
  uint8_t* const dst_;
  const blake3::IoOptions io_;
};

Napi::Value Blake3LeavesAsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ParsedLeaves a = parse_leaves(info, "blake3LeavesAsync");
  const BatchProgress control = batch_progress_arg(env, a.control);
  const size_t threads = threads_arg(env, info[8]);
  LeavesWorker* w = new LeavesWorker(env, std::move(a), control, threads);
  Napi::Promise p = w->promise();
  w->Queue();
  return p;
}

// blake3Bytes(data, chunkCounter, output: 'cv' | 'digest', kernel?)
Napi::Value Blake3Bytes(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 3) bad_type(env, "blake3Bytes(data, chunkCounter, output, kernel?, copyTo?, piece?) needs 3 arguments");
  Napi::Uint8Array data = u8_arg(env, info[0], "data");
  const uint64_t counter = safe_u64(env, info[1], "chunkCounter");
  if (!info[2].IsString()) bad_type(env, "output must be 'cv' or 'digest'");
  const std::string output = info[2].As<Napi::String>().Utf8Value();
  if (output != "cv" && output != "digest") bad_range(env, "output must be 'cv' or 'digest' (got '" + output + "')");
  const bool root = output == "digest";
  if (root && counter != 0) bad_range(env, "chunkCounter must be 0 for output 'digest' (a whole input starts at chunk 0)");
  if (!root && data.ByteLength() == 0) bad_range(env, "data must not be empty for output 'cv' (an empty input is a 'digest')");
  const Kernel& k = blake3_kernel_arg(env, info[3]);
  uint8_t out[OUT_LEN];
  if (info.Length() > 4 && !info[4].IsUndefined()) {
    // copyTo, piece (tests of the verified-read copy-out path): the same hash through
    // Hasher::update_copy in pieces of `piece` bytes, storing the input into copyTo
    Napi::Uint8Array copy = u8_arg(env, info[4], "copyTo");
    if (copy.ByteLength() < data.ByteLength()) bad_range(env, "copyTo must hold data");
    const uint64_t piece = safe_u64(env, info[5], "piece");
    if (piece == 0) bad_range(env, "piece must be at least 1");
    blake3::Hasher h(k, counter);
    for (size_t p = 0; p < data.ByteLength();) {
      const size_t n = static_cast<size_t>(std::min<uint64_t>(piece, data.ByteLength() - p));
      h.update_copy(data.Data() + p, n, copy.Data() + p);
      p += n;
    }
    h.finalize(root, out);
    return new_bytes(env, out, OUT_LEN);
  }
  blake3::hash_bytes(k, data.Data(), data.ByteLength(), counter, root, out);
  return new_bytes(env, out, OUT_LEN);
}

// blake3Parent(left, right, root)
Napi::Value Blake3Parent(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 3) bad_type(env, "blake3Parent(left, right, root) needs 3 arguments");
  Napi::Uint8Array left = u8_arg(env, info[0], "left");
  Napi::Uint8Array right = u8_arg(env, info[1], "right");
  if (left.ByteLength() != OUT_LEN) bad_range(env, "left must be a 32-byte chaining value");
  if (right.ByteLength() != OUT_LEN) bad_range(env, "right must be a 32-byte chaining value");
  if (!info[2].IsBoolean()) bad_type(env, "root must be a boolean");
  uint8_t out[OUT_LEN];
  blake3::parent(blake3::default_kernel(), left.Data(), right.Data(), info[2].As<Napi::Boolean>().Value(), out);
  return new_bytes(env, out, OUT_LEN);
}

// blake3MergeCvs(cvs, kernel?) -> Uint8Array(32)
// The file digest from the CVs of its consecutive aligned subtree leaves (n * 32 bytes, n >= 2; the
// last subtree may be shorter), merged in BLAKE3 tree order with ROOT on the top parent: what the
// JS blake3MergeCvs computes, here so that the merge after a threaded hash is not cold JS on the
// main thread (256 CVs of a 2 GiB file: 7-12 ms in a fresh process through the JS reference, its
// functions interpreted and then optimized; ~0.05 ms here; measured on the 2-vCPU EPYC Milan VM).
Napi::Value Blake3MergeCvsJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1) bad_type(env, "blake3MergeCvs(cvs, kernel?) needs 1 argument");
  Napi::Uint8Array cvs = u8_arg(env, info[0], "cvs");
  const size_t bytes = cvs.ByteLength();
  if (bytes % OUT_LEN != 0 || bytes < 2 * OUT_LEN)
    bad_range(env, "cvs must hold at least two 32-byte chaining values (a multiple of 32 bytes)");
  const Kernel& k = blake3_kernel_arg(env, info[1]);
  uint8_t out[OUT_LEN];
  blake3::merge_cvs(k, cvs.Data(), bytes / OUT_LEN, out);
  return new_bytes(env, out, OUT_LEN);
}

Napi::Value Blake3Kernels(const Napi::CallbackInfo& info) {
  size_t count = 0;
  const Kernel* const* list = blake3::runnable_kernels(&count);
  Napi::Array a = Napi::Array::New(info.Env(), count);
  for (size_t i = 0; i < count; i++) a.Set(static_cast<uint32_t>(i), list[i]->name);
  return a;
}

Napi::Value Blake3DefaultKernel(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), blake3::default_kernel().name);
}

// blake3IoOptions(mode?: 'pread' | 'mmap', blockBytes?: number, sharedFiles?: 'auto' | 'map' | 'read')
//   -> { mode, blockBytes, preadBlockBytes, mmapWindowBytes, sharedFiles }
// Per-thread read strategy of blake3Leaves, for benchmarks and tests (the defaults are the
// measured best). blockBytes sets the pread block or the mmap window, whichever `mode` names.
// sharedFiles: how blake3LeavesAsync calls made from this thread read a file several leaves share
// (blake3::SharedReads).
Napi::Value Blake3IoOptions(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  blake3::IoOptions& o = blake3::io_options();
  if (info.Length() > 0 && !info[0].IsUndefined()) {
    if (!info[0].IsString()) bad_type(env, "mode must be 'pread' or 'mmap'");
    const std::string m = info[0].As<Napi::String>().Utf8Value();
    if (m != "pread" && m != "mmap") bad_range(env, "mode must be 'pread' or 'mmap' (got '" + m + "')");
    o.mode = m == "mmap" ? blake3::IoMode::Mmap : blake3::IoMode::Pread;
  }
  if (info.Length() > 1 && !info[1].IsUndefined()) {
    const uint64_t b = safe_u64(env, info[1], "blockBytes");
    if (b < blake3::CHUNK_LEN || (b & (b - 1)) != 0 || b > (uint64_t(1) << 30))
      bad_range(env, "blockBytes must be a power of two from 1024 to 2^30");
    (o.mode == blake3::IoMode::Mmap ? o.mmap_window_bytes : o.pread_block_bytes) = static_cast<size_t>(b);
  }
  if (info.Length() > 2 && !info[2].IsUndefined()) {
    if (!info[2].IsString()) bad_type(env, "sharedFiles must be 'auto', 'map' or 'read'");
    const std::string m = info[2].As<Napi::String>().Utf8Value();
    if (m != "auto" && m != "map" && m != "read") bad_range(env, "sharedFiles must be 'auto', 'map' or 'read' (got '" + m + "')");
    o.shared = m == "map" ? blake3::SharedReads::Map : m == "read" ? blake3::SharedReads::Read : blake3::SharedReads::Auto;
  }
  Napi::Object r = Napi::Object::New(env);
  r.Set("mode", o.mode == blake3::IoMode::Mmap ? "mmap" : "pread");
  r.Set("sharedFiles", o.shared == blake3::SharedReads::Map ? "map" : o.shared == blake3::SharedReads::Read ? "read" : "auto");
  r.Set("blockBytes", static_cast<double>(o.mode == blake3::IoMode::Mmap ? o.mmap_window_bytes : o.pread_block_bytes));
  r.Set("preadBlockBytes", static_cast<double>(o.pread_block_bytes));
  r.Set("mmapWindowBytes", static_cast<double>(o.mmap_window_bytes));
  return r;
}

}  // namespace

void RegisterBlake3(Napi::Env env, Napi::Object exports) {
  exports.Set("blake3Leaves", Napi::Function::New(env, Blake3Leaves, "blake3Leaves"));
  exports.Set("blake3LeavesAsync", Napi::Function::New(env, Blake3LeavesAsync, "blake3LeavesAsync"));
  exports.Set("blake3Bytes", Napi::Function::New(env, Blake3Bytes, "blake3Bytes"));
  exports.Set("blake3Parent", Napi::Function::New(env, Blake3Parent, "blake3Parent"));
  exports.Set("blake3MergeCvs", Napi::Function::New(env, Blake3MergeCvsJs, "blake3MergeCvs"));
  exports.Set("blake3Kernels", Napi::Function::New(env, Blake3Kernels, "blake3Kernels"));
  exports.Set("blake3DefaultKernel", Napi::Function::New(env, Blake3DefaultKernel, "blake3DefaultKernel"));
  exports.Set("blake3IoOptions", Napi::Function::New(env, Blake3IoOptions, "blake3IoOptions"));
}

}  // namespace modelseal
