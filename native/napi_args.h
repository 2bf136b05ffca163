// Argument checks and coded errors shared by every *_napi.cc. Every JS-visible failure is a JS
// error with a string `code` (a code of src/error-codes.ts): TypeError / RangeError with code
// BAD_ARGUMENT naming the argument, or Error with the code of a C++ IoError. The JS side rebuilds
// them as ModelsealErrors (fromNativeError in src/errors.ts). No user input reaches a fatal check.
#pragma once

#include <napi.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <new>
#include <string>

#include "coded_error.h"

namespace modelseal {

enum class ErrKind { kError, kType, kRange };

[[noreturn]] inline void throw_coded(Napi::Env env, const char* code, const std::string& msg, ErrKind kind = ErrKind::kError) {
  Napi::Error e = kind == ErrKind::kType    ? Napi::TypeError::New(env, msg)
                  : kind == ErrKind::kRange ? Napi::RangeError::New(env, msg)
                                            : Napi::Error::New(env, msg);
  e.Value().Set("code", Napi::String::New(env, code));
  throw e;
}

// A caller passed a value of the wrong type (TypeError, code BAD_ARGUMENT).
[[noreturn]] inline void bad_type(Napi::Env env, const std::string& msg) { throw_coded(env, "BAD_ARGUMENT", msg, ErrKind::kType); }
// A caller passed a value out of range (RangeError, code BAD_ARGUMENT).
[[noreturn]] inline void bad_range(Napi::Env env, const std::string& msg) { throw_coded(env, "BAD_ARGUMENT", msg, ErrKind::kRange); }

// A Uint8Array argument (no copy); any other typed array is refused.
inline Napi::Uint8Array u8_arg(Napi::Env env, const Napi::Value& v, const std::string& name) {
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) bad_type(env, name + " must be a Uint8Array");
  return v.As<Napi::Uint8Array>();
}

// Argument `index` as a Uint8Array (missing counts as the wrong type).
inline Napi::Uint8Array u8_arg(const Napi::CallbackInfo& info, size_t index, const std::string& name) {
  if (info.Length() <= index) bad_type(info.Env(), name + " must be a Uint8Array");
  return u8_arg(info.Env(), info[index], name);
}

// Argument `index` as an array.
inline Napi::Array array_arg(const Napi::CallbackInfo& info, size_t index, const std::string& name) {
  if (info.Length() <= index || !info[index].IsArray()) bad_type(info.Env(), name + " must be an array");
  return info[index].As<Napi::Array>();
}

// The walk's file identities: `v` as a Float64Array [dev0, ino0, dev1, ino1, ...] of 2 * n numbers
// (NaN where the caller has no record), or nullptr when `v` is undefined. `name` names the
// argument in the message ("identities", "options.identities").
inline const double* identities_arg(Napi::Env env, const Napi::Value& v, size_t n, const std::string& name) {
  if (v.IsUndefined()) return nullptr;
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float64_array ||
      v.As<Napi::Float64Array>().ElementLength() != 2 * n)
    bad_type(env, name + " must be a Float64Array of 2 * paths.length numbers");
  return v.As<Napi::Float64Array>().Data();
}

// Largest integer a JS number holds exactly: offsets, lengths and counters beyond it are refused.
constexpr double kMaxSafeInteger = 9007199254740991.0;

// Whether `d` is an integer in [0, 2^53): a byte offset, length or counter a JS number holds exactly.
inline bool safe_integer(double d) { return d >= 0 && d <= kMaxSafeInteger && std::floor(d) == d; }

// A JS number that is a byte offset, length or counter: an integer in [0, 2^53). Never narrowed to 32 bits.
inline uint64_t safe_u64(Napi::Env env, const Napi::Value& v, const std::string& name) {
  if (!v.IsNumber()) bad_type(env, name + " must be a number");
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!safe_integer(d)) {
    char got[32];
    std::snprintf(got, sizeof got, "%.17g", d);
    bad_range(env, name + " must be a non-negative integer no larger than 2^53-1 (got " + got + ")");
  }
  return static_cast<uint64_t>(d);
}

// The `threads` argument of the *Async calls: undefined is one thread, else an integer from 1 to 256.
inline size_t threads_arg(Napi::Env env, const Napi::Value& v) {
  if (v.IsUndefined()) return 1;
  const uint64_t t = safe_u64(env, v, "threads");
  if (t < 1 || t > 256) bad_range(env, "threads must be an integer from 1 to 256");
  return static_cast<size_t>(t);
}

// Runs `body`, turning C++ exceptions into coded JS errors (JS errors pass through unchanged).
// `what` names the operation in the messages, e.g. "SHA-256".
template <class F>
Napi::Value guarded(Napi::Env env, const char* what, F&& body) {
  try {
    return body();
  } catch (const Napi::Error&) {
    throw;
  } catch (const IoError& e) {
    throw_coded(env, e.code.c_str(), e.what());
  } catch (const std::bad_alloc&) {
    throw_coded(env, "OUT_OF_MEMORY", std::string("not enough memory for ") + what + " read buffers");
  } catch (const std::exception& e) {
    throw_coded(env, "IO_ERROR", std::string(what) + " failed: " + e.what());
  }
}

// A JS function whose C++ exceptions become coded JS errors, for functions that do not call
// guarded() themselves: Napi::Function::New(env, guarded_fn<Fn, kWhat>, "name").
template <Napi::Value (*Fn)(const Napi::CallbackInfo&), const char* What>
Napi::Value guarded_fn(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), What, [&]() -> Napi::Value { return Fn(info); });
}

}  // namespace modelseal
