// JS-facing SHA-256 functions. All are synchronous: pool workers call them from their own thread.
// Arguments are validated here (TypeError / RangeError naming the argument, code BAD_ARGUMENT);
// every C++ exception becomes a JS Error with a `code`, never a crash.
//
//   sha256Leaves(paths: string[], offsets: number[], lengths: number[], out: Uint8Array,
//                kernel?: string, options?: { io?: 'pread' | 'mmap', chunkBytes?: number, control?: LeafBatch.control }): void
//   sha256Bytes(data: Uint8Array, kernel?: string): Uint8Array            // 32 bytes
//   sha256BytesMulti(datas: Uint8Array[], kernel?: string): Uint8Array    // 32 * n bytes
//   sha256Kernels(): string[]          // runnable here, best first
//   sha256DefaultKernel(): string
//   sha256DefaultKernelReason(): string   // the CPU-feature rule that chose it
// `options` of sha256Leaves is for benchmarks: io 'mmap' (default: hash from the page cache, no
// copy; truncation → FILE_CHANGED) or 'pread' (copy into aligned buffers), and the per-lane window.
#include "progress_napi.h"

#include <atomic>
#include <cstring>
#include <mutex>
#include <system_error>
#include <thread>
#include <string>
#include <vector>

#include "io.h"
#include "kernel_args.h"
#include "napi_args.h"
#include "registry.h"
#include "sha256/sha256_impl.h"
#include "sha256/sha256_lanes.h"
#include "threaded_leaves.h"

namespace modelseal {

namespace {

using sha256::Kernel;

// A byte offset or length in an array argument (element `i`).
uint64_t byte_count(Napi::Env env, Napi::Value v, const char* name, uint32_t i) {
  return safe_u64(env, v, std::string(name) + "[" + std::to_string(i) + "]");
}

// The checked arguments of sha256Leaves / sha256LeavesAsync (the same first six arguments).
struct ParsedSha256 {
  std::vector<sha256::FileLeaf> leaves;
  const Kernel* kernel = nullptr;
  sha256::IoMode mode = sha256::IoMode::kMmap;
  size_t chunk = 0;
  BatchProgress control;
  Napi::Value control_obj;
  Napi::Uint8Array out;
};

ParsedSha256 parse_sha256_leaves(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ParsedSha256 r;
  {
    Napi::Array paths = array_arg(info, 0, "paths");
    Napi::Array offsets = array_arg(info, 1, "offsets");
    Napi::Array lengths = array_arg(info, 2, "lengths");
    const uint32_t n = paths.Length();
    if (offsets.Length() != n || lengths.Length() != n)
      bad_range(env, "paths, offsets and lengths must have the same length (got " + std::to_string(n) + ", " +
                         std::to_string(offsets.Length()) + ", " + std::to_string(lengths.Length()) + ")");
    Napi::Uint8Array out = u8_arg(info, 3, "out");
    if (out.ByteLength() != size_t(32) * n)
      bad_range(env, "out must be 32 * paths.length = " + std::to_string(size_t(32) * n) + " bytes (got " +
                         std::to_string(out.ByteLength()) + ")");
    const Kernel& k = sha256_kernel_arg(env, info[4]);

    sha256::IoMode mode = sha256::IoMode::kMmap;
    size_t chunk = 0;
    BatchProgress control;
    const double* ids = nullptr;
    if (info.Length() > 5 && !info[5].IsUndefined() && !info[5].IsNull()) {
      if (!info[5].IsObject()) bad_type(env, "options must be an object");
      Napi::Object o = info[5].As<Napi::Object>();
      r.control_obj = o.Get("control");
      control = batch_progress_arg(env, r.control_obj);
      Napi::Value io = o.Get("io");
      if (!io.IsUndefined()) {
        const std::string s = io.IsString() ? io.As<Napi::String>().Utf8Value() : "";
        if (s == "pread") mode = sha256::IoMode::kPread;
        else if (s != "mmap") bad_range(env, "options.io must be 'pread' or 'mmap'");
      }
      Napi::Value cb = o.Get("chunkBytes");
      if (!cb.IsUndefined()) {
        const uint64_t c = safe_u64(env, cb, "options.chunkBytes");
        if (c < 4096 || c > (uint64_t(256) << 20)) bad_range(env, "options.chunkBytes must be between 4096 and 268435456");
        chunk = static_cast<size_t>(c);
      }
      ids = identities_arg(env, o.Get("identities"), n, "options.identities");
    }

    if (chunk == 0) chunk = sha256::default_chunk_bytes(k, mode);
    std::vector<sha256::FileLeaf> leaves(n);
    for (uint32_t i = 0; i < n; ++i) {
      Napi::Value p = paths.Get(i);
      if (!p.IsString()) bad_type(env, "paths[" + std::to_string(i) + "] must be a string");
      leaves[i].path = p.As<Napi::String>().Utf8Value();
      if (leaves[i].path.empty() || leaves[i].path.find('\0') != std::string::npos)
        bad_range(env, "paths[" + std::to_string(i) + "] must be a non-empty path without NUL characters");
      leaves[i].offset = byte_count(env, offsets.Get(i), "offsets", i);
      leaves[i].length = byte_count(env, lengths.Get(i), "lengths", i);
      if (ids && ids[2 * i] == ids[2 * i] && ids[2 * i + 1] == ids[2 * i + 1]) leaves[i].id = {true, ids[2 * i], ids[2 * i + 1]};
    }
    r.leaves = std::move(leaves);
    r.kernel = &k;
    r.mode = mode;
    r.chunk = chunk;
    r.control = control;
    r.out = out;
  }
  return r;
}


Napi::Value Sha256Leaves(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, "SHA-256", [&]() -> Napi::Value {
    ParsedSha256 a = parse_sha256_leaves(info);
    BatchProgressScope progress(a.control);
    sha256::hash_file_leaves(*a.kernel, a.leaves.data(), a.leaves.size(), a.out.Data(), a.mode, a.chunk);
    return env.Undefined();
  });
}

// sha256LeavesAsync(paths, offsets, lengths, out, kernel?, options?, threads?) -> Promise<undefined>
// The leaves of sha256Leaves hashed off the JS thread by `threads` native threads (default 1), as
// blake3LeavesAsync does for BLAKE3: no worker isolate to start (~0.13 s CPU each on the 2-vCPU EPYC
// Milan host, 0.12-0.29 s of wall time before the first task under load). The leaves are cut into
// groups of consecutive leaves the way the plan cuts tasks (about 32 MiB, at most 256 leaves, and at
// least 2 leaves once there are more leaves than threads, so that a group feeds both lanes of
// shani-x2); the threads take groups from a shared counter, each group one hash_file_leaves call.
// Outputs land in `out` as with sha256Leaves, so the digests are the same bytes. All threads add
// their bytes to the one progress slot of `options.control`; an abort or the first error stops every
// thread within one read window. The promise rejects with the same coded errors as sha256Leaves.
class Sha256LeavesWorker : public ThreadedLeavesWorker {
 public:
  Sha256LeavesWorker(Napi::Env env, ParsedSha256&& a, size_t threads)
      : ThreadedLeavesWorker(env, "modelseal:sha256LeavesAsync", "SHA-256", a.out, a.control_obj, a.control),
        leaves_(std::move(a.leaves)),
        kernel_(*a.kernel),
        mode_(a.mode),
        chunk_(a.chunk),
        dst_(a.out.Data()) {
    groups_ = group_ranges(leaves_.size(), leaves_.size() > threads ? 2 : 1, [this](size_t i) { return leaves_[i].length; });
    threads_ = std::min(threads, std::max<size_t>(groups_.size() - 1, 1));
  }

 private:
  void run() override {
    for (size_t g; (g = claim(groups_.size() - 1)) != kNone;) {
      const size_t a = groups_[g], b = groups_[g + 1];
      sha256::hash_file_leaves(kernel_, leaves_.data() + a, b - a, dst_ + 32 * a, mode_, chunk_);
    }
  }

  const std::vector<sha256::FileLeaf> leaves_;
  std::vector<size_t> groups_;  // group i is leaves [groups_[i], groups_[i + 1])
  const Kernel& kernel_;
  const sha256::IoMode mode_;
  const size_t chunk_;
  uint8_t* const dst_;
};

Napi::Value Sha256LeavesAsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, "SHA-256", [&]() -> Napi::Value {
    ParsedSha256 a = parse_sha256_leaves(info);
    const size_t threads = threads_arg(env, info[6]);
    Sha256LeavesWorker* w = new Sha256LeavesWorker(env, std::move(a), threads);
    Napi::Promise p = w->promise();
    w->Queue();
    return p;
  });
}

Napi::Value Sha256Bytes(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, "SHA-256", [&]() -> Napi::Value {
    Napi::Uint8Array data = u8_arg(info, 0, "data");
    const Kernel& k = sha256_kernel_arg(env, info[1]);
    Napi::Uint8Array out = Napi::Uint8Array::New(env, 32);
    const sha256::MemInput in{data.Data(), data.ByteLength()};
    sha256::hash_buffers(k, &in, 1, out.Data());
    return out;
  });
}

Napi::Value Sha256BytesMulti(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, "SHA-256", [&]() -> Napi::Value {
    Napi::Array datas = array_arg(info, 0, "datas");
    const uint32_t n = datas.Length();
    std::vector<sha256::MemInput> ins(n);
    // Keep the typed arrays referenced from this scope while their memory is read.
    std::vector<Napi::Uint8Array> keep;
    keep.reserve(n);
    for (uint32_t i = 0; i < n; ++i) {
      keep.push_back(u8_arg(env, datas.Get(i), "datas[" + std::to_string(i) + "]"));
      ins[i] = {keep.back().Data(), keep.back().ByteLength()};
    }
    const Kernel& k = sha256_kernel_arg(env, info[1]);
    Napi::Uint8Array out = Napi::Uint8Array::New(env, size_t(32) * n);
    sha256::hash_buffers(k, ins.data(), n, out.Data());
    return out;
  });
}

Napi::Value Sha256Kernels(const Napi::CallbackInfo& info) {
  const Kernel* list[16];
  const int n = sha256::available_kernels(list, 16);
  Napi::Array a = Napi::Array::New(info.Env(), n);
  for (int i = 0; i < n; ++i) a.Set(static_cast<uint32_t>(i), Napi::String::New(info.Env(), list[i]->name));
  return a;
}

Napi::Value Sha256DefaultKernel(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), sha256::default_kernel().name);
}

Napi::Value Sha256DefaultKernelReason(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), sha256::default_kernel_reason());
}

}  // namespace

void RegisterSha256(Napi::Env env, Napi::Object exports) {
  exports.Set("sha256Leaves", Napi::Function::New(env, Sha256Leaves, "sha256Leaves"));
  exports.Set("sha256LeavesAsync", Napi::Function::New(env, Sha256LeavesAsync, "sha256LeavesAsync"));
  exports.Set("sha256Bytes", Napi::Function::New(env, Sha256Bytes, "sha256Bytes"));
  exports.Set("sha256BytesMulti", Napi::Function::New(env, Sha256BytesMulti, "sha256BytesMulti"));
  exports.Set("sha256Kernels", Napi::Function::New(env, Sha256Kernels, "sha256Kernels"));
  exports.Set("sha256DefaultKernel", Napi::Function::New(env, Sha256DefaultKernel, "sha256DefaultKernel"));
  exports.Set("sha256DefaultKernelReason", Napi::Function::New(env, Sha256DefaultKernelReason, "sha256DefaultKernelReason"));
}

}  // namespace modelseal
