// The modelseal Node-API addon. Context-aware: loaded once per worker thread, no global JS state.
// Each area registers its functions from its own file; every C++ exception becomes a JS error
// (node-addon-api with NAPI_CPP_EXCEPTIONS), and no user input reaches a fatal check.
#include <napi.h>

#include <fcntl.h>
#include <unistd.h>

#include "cpu_features.h"
#include "registry.h"

namespace modelseal {

namespace {

Napi::Value CpuFeaturesJs(const Napi::CallbackInfo& info) {
  const CpuFeatures& f = cpu_features();
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("sse41", f.sse41);
  o.Set("ssse3", f.ssse3);
  o.Set("avx", f.avx);
  o.Set("avx2", f.avx2);
  o.Set("shaNi", f.sha_ni);
  o.Set("avx512f", f.avx512f);
  o.Set("avx512vl", f.avx512vl);
  o.Set("neon", f.neon);
#if defined(MODELSEAL_X86)
  o.Set("arch", "x86_64");
#elif defined(__aarch64__)
  o.Set("arch", "arm64");
#else
  o.Set("arch", "other");
#endif
  return o;
}

// stderrSilence(): points file descriptor 2 at /dev/null and returns a duplicate of the old one
// (or -1 when that is not possible); stderrRestore(fd) puts it back. For libraries that print
// straight to fd 2 from C++ (Dawn's adapter warnings), around the calls that print.
Napi::Value StderrSilence(const Napi::CallbackInfo& info) {
  const int saved = ::dup(2);
  if (saved < 0) return Napi::Number::New(info.Env(), -1);
  const int null_fd = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
  if (null_fd < 0 || ::dup2(null_fd, 2) < 0) {
    if (null_fd >= 0) ::close(null_fd);
    ::close(saved);
    return Napi::Number::New(info.Env(), -1);
  }
  ::close(null_fd);
  return Napi::Number::New(info.Env(), saved);
}

Napi::Value StderrRestore(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsNumber()) return info.Env().Undefined();
  const int saved = info[0].As<Napi::Number>().Int32Value();
  if (saved > 2) {
    ::dup2(saved, 2);
    ::close(saved);
  }
  return info.Env().Undefined();
}

}  // namespace

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("cpuFeatures", Napi::Function::New(env, CpuFeaturesJs, "cpuFeatures"));
  exports.Set("abiVersion", Napi::Number::New(env, 1));
  exports.Set("stderrSilence", Napi::Function::New(env, StderrSilence, "stderrSilence"));
  exports.Set("stderrRestore", Napi::Function::New(env, StderrRestore, "stderrRestore"));
  RegisterSha256(env, exports);
  RegisterSha256Merkle(env, exports);
  RegisterBlake3(env, exports);
  RegisterTee(env, exports);
  RegisterVerifiedUnits(env, exports);
  return exports;
}

}  // namespace modelseal

static Napi::Object InitModelseal(Napi::Env env, Napi::Object exports) { return modelseal::Init(env, exports); }

NODE_API_MODULE(modelseal, InitModelseal)
