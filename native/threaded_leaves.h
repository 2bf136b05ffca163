// The one shape of the `*LeavesAsync` calls (sha256LeavesAsync, blake3LeavesAsync, sha256LeavesMerkleAsync): an N-API async
// worker whose Execute() runs `threads` native threads over a shared work counter and settles a
// promise. A subclass supplies run(): one thread's loop, which claims work with claim() until it
// returns kNone or stopped() turns true. The first failure of any thread (a coded IoError, out of
// memory, anything else) is the one the promise rejects with; it stops every thread within one read
// window. Each thread adds its bytes to the one progress slot of `control` (progress_napi.h).
#pragma once

#include <napi.h>

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "io.h"
#include "progress_napi.h"

namespace modelseal {

// Work items for the threads: consecutive items cut into groups of about 32 MiB and at most 256 items
// (the way the plan cuts tasks), each with at least `min_items` items while more are left (2 for
// sha256LeavesAsync, so a group feeds both lanes of shani-x2). Returns the group starts followed by
// `n`: group i is items [g[i], g[i + 1]).
template <class LengthOf>
std::vector<size_t> group_ranges(size_t n, size_t min_items, LengthOf length_of) {
  constexpr uint64_t kGroupBytes = uint64_t(32) << 20;
  constexpr size_t kGroupMaxItems = 256;
  std::vector<size_t> groups;
  size_t start = 0;
  while (start < n) {
    size_t end = start;
    uint64_t bytes = 0;
    while (end < n && end - start < kGroupMaxItems && (end - start < min_items || bytes + length_of(end) <= kGroupBytes)) {
      bytes += length_of(end);
      ++end;
    }
    groups.push_back(start);
    start = end;
  }
  groups.push_back(n);
  return groups;
}

class ThreadedLeavesWorker : public Napi::AsyncWorker {
 public:
  Napi::Promise promise() const { return deferred_.Promise(); }

  void Execute() override {
    std::vector<std::thread> extra;
    try {
      for (size_t t = 1; t < threads_; t++) extra.emplace_back([this] { run_guarded(); });
    } catch (const std::system_error&) {
      // fewer threads than asked (a thread limit): the ones running take all the work
    }
    run_guarded();
    for (std::thread& t : extra) t.join();
  }

  void OnOK() override {
    Napi::Env env = Env();
    Napi::HandleScope scope(env);
    if (failed_) {
      Napi::Error e = Napi::Error::New(env, err_msg_);
      e.Value().Set("code", Napi::String::New(env, err_code_));
      deferred_.Reject(e.Value());
    } else {
      deferred_.Resolve(env.Undefined());
    }
  }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 protected:
  static constexpr size_t kNone = ~size_t(0);

  // `label` names the algorithm in error messages ("SHA-256", "BLAKE3"). `out` and `control_obj`
  // are kept alive until the threads are done with them.
  ThreadedLeavesWorker(Napi::Env env, const char* resource, const char* label, Napi::Object out, Napi::Value control_obj,
                       BatchProgress control)
      : Napi::AsyncWorker(env, resource), deferred_(Napi::Promise::Deferred::New(env)), label_(label), control_(control) {
    out_ref_ = Napi::Persistent(out);
    if (control_obj.IsObject()) control_ref_ = Napi::Persistent(control_obj.As<Napi::Object>());
  }

  // One thread's loop: claim(n) work items until it returns kNone.
  virtual void run() = 0;

  // The next of `n` work items for this thread, or kNone once all are taken or a thread failed.
  size_t claim(size_t n) {
    if (stop_.load(std::memory_order_relaxed)) return kNone;
    const size_t i = next_.fetch_add(1, std::memory_order_relaxed);
    return i < n ? i : kNone;
  }

  // Set by the subclass's constructor: how many threads Execute() runs (at least 1).
  size_t threads_ = 1;

 private:
  void run_guarded() {
    BatchProgressScope progress(control_);
    try {
      run();
    } catch (const IoError& e) {
      fail(e.code, e.what());
    } catch (const std::bad_alloc&) {
      fail("OUT_OF_MEMORY", std::string("not enough memory for ") + label_ + " read buffers");
    } catch (const std::exception& e) {
      fail("IO_ERROR", std::string(label_) + " failed: " + e.what());
    }
  }

  void fail(const std::string& code, const std::string& msg) {
    std::lock_guard<std::mutex> lock(mu_);
    stop_.store(true, std::memory_order_relaxed);
    // The first failure is the one reported; an ABORTED that follows it only echoes the stop.
    if (!failed_) {
      failed_ = true;
      err_code_ = code;
      err_msg_ = msg;
    }
  }

  Napi::Promise::Deferred deferred_;
  const char* const label_;
  const BatchProgress control_;
  Napi::ObjectReference out_ref_;
  Napi::ObjectReference control_ref_;
  std::atomic<size_t> next_{0};
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  bool failed_ = false;
  std::string err_code_, err_msg_;
};

}  // namespace modelseal
