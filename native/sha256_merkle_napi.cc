// JS-facing SHA-256 with RFC 9162 Merkle leaves in the same read (native/sha256/sha256_merkle.h):
//
//   sha256LeavesMerkle(paths: string[], offsets: number[], lengths: number[], leafFirst: number[],
//                      leafCount: number[], leafBytes: number, out: Uint8Array, leavesOut: Uint8Array,
//                      kernel?: string, options?: { identities?: Float64Array, control?: LeafBatch.control }): void
//     out: 32 bytes per range (its SHA-256); leavesOut: 32 bytes per Merkle leaf, ranges in order.
//   sha256LeavesMerkleAsync(...the same ten arguments..., threads?: number): Promise<void>
//     the same outputs, computed by `threads` native threads off the JS thread.
//   sha256BytesMerkle(data: Uint8Array, leafBytes: number, kernel?: string): Uint8Array
//     32 bytes of SHA-256(data), then 32 per leaf of data.
// Validation and errors as in sha256_napi.cc (BAD_ARGUMENT naming the argument; I/O codes of io.h).
#include <algorithm>
#include <string>
#include <vector>

#include "io.h"
#include "kernel_args.h"
#include "napi_args.h"
#include "progress_napi.h"
#include "registry.h"
#include "threaded_leaves.h"
#include "sha256/sha256_impl.h"
#include "sha256/sha256_merkle.h"

namespace modelseal {

namespace {

using sha256::Kernel;

// 1 MiB pieces: the buffer stays in L2 while both lanes read it (as the pread path of sha256_lanes).
constexpr size_t kReadBytes = size_t(1) << 20;

uint64_t leaf_bytes_arg(const Napi::CallbackInfo& info, size_t index) {
  Napi::Env env = info.Env();
  const uint64_t l = info.Length() > index ? safe_u64(env, info[index], "leafBytes") : 0;
  if (l < 64 || (l & (l - 1)) != 0) bad_range(env, "leafBytes must be a power of two >= 64");
  return l;
}

// The checked arguments of sha256LeavesMerkle / sha256LeavesMerkleAsync (the same first ten arguments).
struct ParsedMerkle {
  std::vector<sha256::MerkleRange> ranges;
  std::vector<uint64_t> leaf_at;  // range i's first leaf hash is leaf_at[i] in leavesOut
  uint64_t leaf_bytes = 0;
  const Kernel* kernel = nullptr;
  BatchProgress control;
  Napi::Value control_obj;
  Napi::Uint8Array out;
  Napi::Uint8Array leaves_out;
};

ParsedMerkle parse_merkle_args(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ParsedMerkle a;
  Napi::Array paths = array_arg(info, 0, "paths");
  Napi::Array offsets = array_arg(info, 1, "offsets");
  Napi::Array lengths = array_arg(info, 2, "lengths");
  Napi::Array firsts = array_arg(info, 3, "leafFirst");
  Napi::Array counts = array_arg(info, 4, "leafCount");
  const uint32_t n = paths.Length();
  if (offsets.Length() != n || lengths.Length() != n || firsts.Length() != n || counts.Length() != n)
    bad_range(env, "paths, offsets, lengths, leafFirst and leafCount must have the same length");
  a.leaf_bytes = leaf_bytes_arg(info, 5);
  const uint64_t leaf_bytes = a.leaf_bytes;
  a.out = u8_arg(info, 6, "out");
  a.leaves_out = u8_arg(info, 7, "leavesOut");
  if (a.out.ByteLength() != size_t(32) * n) bad_range(env, "out must be 32 * paths.length bytes");
  a.kernel = &sha256_kernel_arg(info.Env(), info[8]);
  const double* ids = nullptr;
  if (info.Length() > 9 && !info[9].IsUndefined() && !info[9].IsNull()) {
    if (!info[9].IsObject()) bad_type(env, "options must be an object");
    Napi::Object o = info[9].As<Napi::Object>();
    a.control_obj = o.Get("control");
    a.control = batch_progress_arg(env, a.control_obj);
    ids = identities_arg(env, o.Get("identities"), n, "options.identities");
  }
  a.ranges.resize(n);
  a.leaf_at.resize(n);
  uint64_t total_leaves = 0;
  for (uint32_t i = 0; i < n; ++i) {
    const std::string at = "[" + std::to_string(i) + "]";
    Napi::Value p = paths.Get(i);
    if (!p.IsString()) bad_type(env, "paths" + at + " must be a string");
    sha256::MerkleRange& m = a.ranges[i];
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
    a.leaf_at[i] = total_leaves;
    total_leaves += m.leaf_count;
  }
  if (a.leaves_out.ByteLength() != 32 * total_leaves) bad_range(env, "leavesOut must be 32 bytes per Merkle leaf (" + std::to_string(32 * total_leaves) + ")");
  return a;
}

Napi::Value Sha256LeavesMerkle(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, "SHA-256", [&]() -> Napi::Value {
    ParsedMerkle a = parse_merkle_args(info);
    BatchProgressScope progress(a.control);
    sha256::hash_ranges_with_leaves(*a.kernel, a.ranges.data(), a.ranges.size(), a.leaf_bytes, a.out.Data(), a.leaves_out.Data(), kReadBytes);
    return env.Undefined();
  });
}

// sha256LeavesMerkleAsync(...the arguments of sha256LeavesMerkle..., threads?) -> Promise<undefined>
// sha256LeavesMerkle on `threads` native threads off the JS thread (default 1), as sha256LeavesAsync
// is to sha256Leaves: no worker isolate to start (~0.13 s CPU each on the 2-vCPU EPYC Milan host).
// The ranges are cut into groups of consecutive ranges (group_ranges: about 32 MiB, at most 256
// ranges) and the threads take groups from a shared counter, each group one hash_ranges_with_leaves
// call writing its own slices of `out` and `leavesOut`, so the bytes are those of sha256LeavesMerkle.
// One range at a time is enough per group: a range already feeds both lanes of the 2-lane kernel
// (its digest stream and its leaf stream). Errors and abort as in sha256LeavesAsync.
class Sha256MerkleWorker : public ThreadedLeavesWorker {
 public:
  Sha256MerkleWorker(Napi::Env env, ParsedMerkle&& a, size_t threads)
      : ThreadedLeavesWorker(env, "modelseal:sha256LeavesMerkleAsync", "SHA-256", a.out, a.control_obj, a.control),
        ranges_(std::move(a.ranges)),
        leaf_at_(std::move(a.leaf_at)),
        leaf_bytes_(a.leaf_bytes),
        kernel_(*a.kernel),
        dst_(a.out.Data()),
        leaves_dst_(a.leaves_out.Data()) {
    leaves_ref_ = Napi::Persistent(a.leaves_out.As<Napi::Object>());
    groups_ = group_ranges(ranges_.size(), 1, [this](size_t i) { return ranges_[i].range.length; });
    threads_ = std::min(threads, std::max<size_t>(groups_.size() - 1, 1));
  }

 private:
  void run() override {
    for (size_t g; (g = claim(groups_.size() - 1)) != kNone;) {
      const size_t a = groups_[g], b = groups_[g + 1];
      sha256::hash_ranges_with_leaves(kernel_, ranges_.data() + a, b - a, leaf_bytes_, dst_ + 32 * a, leaves_dst_ + 32 * leaf_at_[a], kReadBytes);
    }
  }

  const std::vector<sha256::MerkleRange> ranges_;
  const std::vector<uint64_t> leaf_at_;
  std::vector<size_t> groups_;  // group i is ranges [groups_[i], groups_[i + 1])
  const uint64_t leaf_bytes_;
  const Kernel& kernel_;
  uint8_t* const dst_;
  uint8_t* const leaves_dst_;
  Napi::ObjectReference leaves_ref_;  // keeps leavesOut alive until the threads are done
};

Napi::Value Sha256LeavesMerkleAsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, "SHA-256", [&]() -> Napi::Value {
    ParsedMerkle a = parse_merkle_args(info);
    const size_t threads = threads_arg(env, info[10]);
    Sha256MerkleWorker* w = new Sha256MerkleWorker(env, std::move(a), threads);
    Napi::Promise p = w->promise();
    w->Queue();
    return p;
  });
}

Napi::Value Sha256BytesMerkle(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, "SHA-256", [&]() -> Napi::Value {
    Napi::Uint8Array data = u8_arg(info, 0, "data");
    const uint64_t leaf_bytes = leaf_bytes_arg(info, 1);
    const Kernel& k = sha256_kernel_arg(info.Env(), info[2]);
    const size_t count = (data.ByteLength() + leaf_bytes - 1) / leaf_bytes;
    Napi::Uint8Array out = Napi::Uint8Array::New(env, 32 * (1 + count));
    sha256::hash_bytes_with_leaves(k, data.Data(), data.ByteLength(), leaf_bytes, out.Data(), out.Data() + 32);
    return out;
  });
}

}  // namespace

void RegisterSha256Merkle(Napi::Env env, Napi::Object exports) {
  exports.Set("sha256LeavesMerkle", Napi::Function::New(env, Sha256LeavesMerkle, "sha256LeavesMerkle"));
  exports.Set("sha256LeavesMerkleAsync", Napi::Function::New(env, Sha256LeavesMerkleAsync, "sha256LeavesMerkleAsync"));
  exports.Set("sha256BytesMerkle", Napi::Function::New(env, Sha256BytesMerkle, "sha256BytesMerkle"));
}

}  // namespace modelseal
