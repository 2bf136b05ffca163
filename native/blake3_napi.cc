// JS bindings of the native BLAKE3: file leaves (subtree CVs or whole-range digests) read with
// pread into page-aligned memory, bytes in memory, parent merges, and kernel introspection.
// Every failure is a JS error with a `code` (native/napi_args.h): TypeError / RangeError (code
// BAD_ARGUMENT) naming the argument, KERNEL_UNAVAILABLE, or the I/O codes of native/io.h.
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "blake3/blake3_impl.h"
#include "blake3/blake3_tree.h"
#include "io.h"
#include "napi_args.h"
#include "progress_napi.h"
#include "registry.h"

namespace modelseal {

namespace {

using blake3::Kernel;
using blake3::OUT_LEN;

const Kernel& kernel_arg(Napi::Env env, const Napi::CallbackInfo& info, size_t index) {
  if (info.Length() <= index || info[index].IsUndefined()) return blake3::default_kernel();
  if (!info[index].IsString()) bad_type(env, "kernel must be a string (e.g. 'avx2') or undefined");
  const std::string name = info[index].As<Napi::String>().Utf8Value();
  bool known = false;
  const Kernel* k = blake3::find_kernel(name.c_str(), &known);
  if (k) return *k;
  std::string runnable;
  size_t count = 0;
  const Kernel* const* list = blake3::runnable_kernels(&count);
  for (size_t i = 0; i < count; i++) runnable += (i ? ", " : "") + std::string(list[i]->name);
  if (!known) bad_range(env, "kernel '" + name + "' is not a BLAKE3 kernel; this machine runs: " + runnable);
  throw_coded(env, "KERNEL_UNAVAILABLE",
              "BLAKE3 kernel '" + name + "' cannot run on this CPU or build; this machine runs: " + runnable);
}

Napi::Uint8Array new_bytes(Napi::Env env, const uint8_t* p, size_t n) {
  Napi::ArrayBuffer ab = Napi::ArrayBuffer::New(env, n);
  std::memcpy(ab.Data(), p, n);
  return Napi::Uint8Array::New(env, n, ab, 0);
}

// blake3Leaves(paths, offsets, lengths, cvFlags, out, kernel?, identities?, control?)
// identities: Float64Array [dev0, ino0, ...] as the walk saw the files; NaN where there is no record.
// control: LeafBatch.control (progress inside a file, abort).
Napi::Value Blake3Leaves(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 5) bad_type(env, "blake3Leaves(paths, offsets, lengths, cvFlags, out, kernel?) needs 5 arguments");
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
  const Kernel& k = kernel_arg(env, info, 5);

  const double* ids = nullptr;
  if (info.Length() > 6 && !info[6].IsUndefined() && !info[6].IsNull()) {
    if (!info[6].IsTypedArray() || info[6].As<Napi::TypedArray>().TypedArrayType() != napi_float64_array ||
        info[6].As<Napi::Float64Array>().ElementLength() != 2 * n)
      bad_type(env, "identities must be a Float64Array of 2 * paths.length numbers");
    ids = info[6].As<Napi::Float64Array>().Data();
  }
  struct LeafArgs {
    std::string path;
    uint64_t offset, length;
    bool cv;
    FileIdentity id;
  };
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

  // One page-aligned read buffer per thread, reused across calls; the file stays open while
  // consecutive leaves name the same path.
  static thread_local AlignedBuffer buf;
  uint8_t* dst = out.Data();
  const BatchProgress control = info.Length() > 7 ? batch_progress_arg(env, info[7]) : BatchProgress{};
  return guarded(env, "BLAKE3", [&]() -> Napi::Value {
    BatchProgressScope progress(control);
    std::unique_ptr<Fd> fd;
    for (size_t i = 0; i < n; i++) {
      if (!fd || fd->path() != leaves[i].path) {
        fd.reset();
        fd = std::make_unique<Fd>(leaves[i].path, leaves[i].id);
      }
      blake3::hash_file_range(k, *fd, leaves[i].offset, leaves[i].length, leaves[i].cv, buf, dst + OUT_LEN * i);
    }
    return env.Undefined();
  });
}

// blake3Bytes(data, chunkCounter, output: 'cv' | 'digest', kernel?)
Napi::Value Blake3Bytes(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 3) bad_type(env, "blake3Bytes(data, chunkCounter, output, kernel?) needs 3 arguments");
  Napi::Uint8Array data = u8_arg(env, info[0], "data");
  const uint64_t counter = safe_u64(env, info[1], "chunkCounter");
  if (!info[2].IsString()) bad_type(env, "output must be 'cv' or 'digest'");
  const std::string output = info[2].As<Napi::String>().Utf8Value();
  if (output != "cv" && output != "digest") bad_range(env, "output must be 'cv' or 'digest' (got '" + output + "')");
  const bool root = output == "digest";
  if (root && counter != 0) bad_range(env, "chunkCounter must be 0 for output 'digest' (a whole input starts at chunk 0)");
  if (!root && data.ByteLength() == 0) bad_range(env, "data must not be empty for output 'cv' (an empty input is a 'digest')");
  const Kernel& k = kernel_arg(env, info, 3);
  uint8_t out[OUT_LEN];
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

// blake3IoOptions(mode?: 'pread' | 'mmap', blockBytes?: number)
//   -> { mode, blockBytes, preadBlockBytes, mmapWindowBytes }
// Per-thread read strategy of blake3Leaves, for benchmarks and tests (the defaults are the
// measured best). blockBytes sets the pread block or the mmap window, whichever `mode` names.
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
  Napi::Object r = Napi::Object::New(env);
  r.Set("mode", o.mode == blake3::IoMode::Mmap ? "mmap" : "pread");
  r.Set("blockBytes", static_cast<double>(o.mode == blake3::IoMode::Mmap ? o.mmap_window_bytes : o.pread_block_bytes));
  r.Set("preadBlockBytes", static_cast<double>(o.pread_block_bytes));
  r.Set("mmapWindowBytes", static_cast<double>(o.mmap_window_bytes));
  return r;
}

}  // namespace

void RegisterBlake3(Napi::Env env, Napi::Object exports) {
  exports.Set("blake3Leaves", Napi::Function::New(env, Blake3Leaves, "blake3Leaves"));
  exports.Set("blake3Bytes", Napi::Function::New(env, Blake3Bytes, "blake3Bytes"));
  exports.Set("blake3Parent", Napi::Function::New(env, Blake3Parent, "blake3Parent"));
  exports.Set("blake3Kernels", Napi::Function::New(env, Blake3Kernels, "blake3Kernels"));
  exports.Set("blake3DefaultKernel", Napi::Function::New(env, Blake3DefaultKernel, "blake3DefaultKernel"));
  exports.Set("blake3IoOptions", Napi::Function::New(env, Blake3IoOptions, "blake3IoOptions"));
}

}  // namespace modelseal
