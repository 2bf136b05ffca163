// JS-facing SHA-256 with RFC 9162 Merkle leaves in the same read (native/sha256/sha256_merkle.h):
//
//   sha256LeavesMerkle(paths: string[], offsets: number[], lengths: number[], leafFirst: number[],
//                      leafCount: number[], leafBytes: number, out: Uint8Array, leavesOut: Uint8Array,
//                      kernel?: string, options?: { identities?: Float64Array, control?: LeafBatch.control }): void
//     out: 32 bytes per range (its SHA-256); leavesOut: 32 bytes per Merkle leaf, ranges in order.
//   sha256BytesMerkle(data: Uint8Array, leafBytes: number, kernel?: string): Uint8Array
//     32 bytes of SHA-256(data), then 32 per leaf of data.
// Validation and errors as in sha256_napi.cc (BAD_ARGUMENT naming the argument; I/O codes of io.h).
#include <string>
#include <vector>

#include "io.h"
#include "napi_args.h"
#include "progress_napi.h"
#include "registry.h"
#include "sha256/sha256_impl.h"
#include "sha256/sha256_merkle.h"

namespace modelseal {

namespace {

using sha256::Kernel;

// 1 MiB pieces: the buffer stays in L2 while both lanes read it (as the pread path of sha256_lanes).
constexpr size_t kReadBytes = size_t(1) << 20;

const Kernel& kernel_arg(const Napi::CallbackInfo& info, size_t index) {
  Napi::Env env = info.Env();
  if (info.Length() <= index || info[index].IsUndefined() || info[index].IsNull()) return sha256::default_kernel();
  if (!info[index].IsString()) bad_type(env, "kernel must be a string");
  const std::string name = info[index].As<Napi::String>().Utf8Value();
  bool runnable = false;
  const Kernel* k = sha256::find_kernel(name.c_str(), &runnable);
  if (!k) bad_range(env, "kernel '" + name + "' is not a SHA-256 kernel");
  if (!runnable) throw_coded(env, "KERNEL_UNAVAILABLE", "SHA-256 kernel '" + name + "' needs CPU features this machine lacks");
  return *k;
}

uint64_t leaf_bytes_arg(const Napi::CallbackInfo& info, size_t index) {
  Napi::Env env = info.Env();
  const uint64_t l = info.Length() > index ? safe_u64(env, info[index], "leafBytes") : 0;
  if (l < 64 || (l & (l - 1)) != 0) bad_range(env, "leafBytes must be a power of two >= 64");
  return l;
}

Napi::Value Sha256LeavesMerkle(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, "SHA-256", [&]() -> Napi::Value {
    Napi::Array paths = array_arg(info, 0, "paths");
    Napi::Array offsets = array_arg(info, 1, "offsets");
    Napi::Array lengths = array_arg(info, 2, "lengths");
    Napi::Array firsts = array_arg(info, 3, "leafFirst");
    Napi::Array counts = array_arg(info, 4, "leafCount");
    const uint32_t n = paths.Length();
    if (offsets.Length() != n || lengths.Length() != n || firsts.Length() != n || counts.Length() != n)
      bad_range(env, "paths, offsets, lengths, leafFirst and leafCount must have the same length");
    const uint64_t leaf_bytes = leaf_bytes_arg(info, 5);
    Napi::Uint8Array out = u8_arg(info, 6, "out");
    Napi::Uint8Array leaves_out = u8_arg(info, 7, "leavesOut");
    if (out.ByteLength() != size_t(32) * n) bad_range(env, "out must be 32 * paths.length bytes");
    const Kernel& k = kernel_arg(info, 8);
    BatchProgress control;
    const double* ids = nullptr;
    if (info.Length() > 9 && !info[9].IsUndefined() && !info[9].IsNull()) {
      if (!info[9].IsObject()) bad_type(env, "options must be an object");
      Napi::Object o = info[9].As<Napi::Object>();
      control = batch_progress_arg(env, o.Get("control"));
      ids = identities_arg(env, o.Get("identities"), n, "options.identities");
    }
    std::vector<sha256::MerkleRange> ranges(n);
    uint64_t total_leaves = 0;
    for (uint32_t i = 0; i < n; ++i) {
      const std::string at = "[" + std::to_string(i) + "]";
      Napi::Value p = paths.Get(i);
      if (!p.IsString()) bad_type(env, "paths" + at + " must be a string");
      sha256::MerkleRange& m = ranges[i];
      m.range.path = p.As<Napi::String>().Utf8Value();
      if (m.range.path.empty() || m.range.path.find('\0') != std::string::npos)
        bad_range(env, "paths" + at + " must be a non-empty path without NUL characters");
      m.range.offset = safe_u64(env, offsets.Get(i), "offsets" + at);
      m.range.length = safe_u64(env, lengths.Get(i), "lengths" + at);
      m.leaf_first = safe_u64(env, firsts.Get(i), "leafFirst" + at);
      m.leaf_count = safe_u64(env, counts.Get(i), "leafCount" + at);
      const uint64_t end = m.range.offset + m.range.length;
      if (m.leaf_count > 0 && (m.leaf_first * leaf_bytes < m.range.offset || (m.leaf_first + m.leaf_count - 1) * leaf_bytes >= end))
        bad_range(env, "the Merkle leaves of range" + at + " must lie inside it");
      if (ids && ids[2 * i] == ids[2 * i] && ids[2 * i + 1] == ids[2 * i + 1]) m.range.id = {true, ids[2 * i], ids[2 * i + 1]};
      total_leaves += m.leaf_count;
    }
    if (leaves_out.ByteLength() != 32 * total_leaves) bad_range(env, "leavesOut must be 32 bytes per Merkle leaf (" + std::to_string(32 * total_leaves) + ")");
    BatchProgressScope progress(control);
    sha256::hash_ranges_with_leaves(k, ranges.data(), n, leaf_bytes, out.Data(), leaves_out.Data(), kReadBytes);
    return env.Undefined();
  });
}

Napi::Value Sha256BytesMerkle(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, "SHA-256", [&]() -> Napi::Value {
    Napi::Uint8Array data = u8_arg(info, 0, "data");
    const uint64_t leaf_bytes = leaf_bytes_arg(info, 1);
    const Kernel& k = kernel_arg(info, 2);
    const size_t count = (data.ByteLength() + leaf_bytes - 1) / leaf_bytes;
    Napi::Uint8Array out = Napi::Uint8Array::New(env, 32 * (1 + count));
    sha256::hash_bytes_with_leaves(k, data.Data(), data.ByteLength(), leaf_bytes, out.Data(), out.Data() + 32);
    return out;
  });
}

}  // namespace

void RegisterSha256Merkle(Napi::Env env, Napi::Object exports) {
  exports.Set("sha256LeavesMerkle", Napi::Function::New(env, Sha256LeavesMerkle, "sha256LeavesMerkle"));
  exports.Set("sha256BytesMerkle", Napi::Function::New(env, Sha256BytesMerkle, "sha256BytesMerkle"));
}

}  // namespace modelseal
