// The `kernel` argument of the hashing calls (sha256_napi.cc, sha256_merkle_napi.cc, blake3_napi.cc,
// verified_units_napi.cc): undefined picks the default kernel for this CPU; a name must be a kernel
// of that algorithm (RangeError, BAD_ARGUMENT) that this CPU and build can run (KERNEL_UNAVAILABLE).
// The messages list the kernels that run here.
#pragma once

#include <string>

#include "blake3/blake3_impl.h"
#include "napi_args.h"
#include "sha256/sha256_impl.h"

namespace modelseal {

inline std::string sha256_kernel_list() {
  const sha256::Kernel* list[16];
  const int n = sha256::available_kernels(list, 16);
  std::string s;
  for (int i = 0; i < n; ++i) s += (i ? ", " : "") + std::string(list[i]->name);
  return s;
}

// undefined or null: the default kernel
inline const sha256::Kernel& sha256_kernel_arg(Napi::Env env, const Napi::Value& v) {
  if (v.IsUndefined() || v.IsNull()) return sha256::default_kernel();
  if (!v.IsString()) bad_type(env, "kernel must be a string (one of: " + sha256_kernel_list() + ")");
  const std::string name = v.As<Napi::String>().Utf8Value();
  bool runnable = false;
  const sha256::Kernel* k = sha256::find_kernel(name.c_str(), &runnable);
  if (!k) bad_range(env, "kernel '" + name + "' is not a SHA-256 kernel (runnable here: " + sha256_kernel_list() + ")");
  if (!runnable)
    throw_coded(env, "KERNEL_UNAVAILABLE",
                "SHA-256 kernel '" + name + "' needs CPU features this machine lacks (runnable here: " + sha256_kernel_list() + ")");
  return *k;
}

// undefined: the default kernel
inline const blake3::Kernel& blake3_kernel_arg(Napi::Env env, const Napi::Value& v) {
  if (v.IsUndefined()) return blake3::default_kernel();
  if (!v.IsString()) bad_type(env, "kernel must be a string (e.g. 'avx2') or undefined");
  const std::string name = v.As<Napi::String>().Utf8Value();
  bool known = false;
  const blake3::Kernel* k = blake3::find_kernel(name.c_str(), &known);
  if (k) return *k;
  std::string runnable;
  size_t count = 0;
  const blake3::Kernel* const* list = blake3::runnable_kernels(&count);
  for (size_t i = 0; i < count; i++) runnable += (i ? ", " : "") + std::string(list[i]->name);
  if (!known) bad_range(env, "kernel '" + name + "' is not a BLAKE3 kernel; this machine runs: " + runnable);
  throw_coded(env, "KERNEL_UNAVAILABLE",
              "BLAKE3 kernel '" + name + "' cannot run on this CPU or build; this machine runs: " + runnable);
}

}  // namespace modelseal
