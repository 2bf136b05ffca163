// Reads a LeafBatch.control object ({ counters: BigInt64Array, slot }) into a BatchProgress.
#pragma once

#include <napi.h>

#include <cmath>
#include <string>

#include "progress.h"

namespace modelseal {

// `control` may be undefined or null (no progress, no abort). The array must outlive the call, which
// it does: the *Leaves functions are synchronous.
inline BatchProgress batch_progress_arg(Napi::Env env, Napi::Value control) {
  if (control.IsUndefined() || control.IsNull()) return {};
  auto fail = [&](const std::string& msg) {
    Napi::TypeError e = Napi::TypeError::New(env, msg);
    e.Value().Set("code", Napi::String::New(env, "BAD_ARGUMENT"));
    throw e;
  };
  if (!control.IsObject()) fail("control must be an object { counters, slot }");
  Napi::Object o = control.As<Napi::Object>();
  Napi::Value c = o.Get("counters");
  if (!c.IsTypedArray() || c.As<Napi::TypedArray>().TypedArrayType() != napi_bigint64_array)
    fail("control.counters must be a BigInt64Array");
  Napi::TypedArrayOf<int64_t> counters = c.As<Napi::TypedArrayOf<int64_t>>();
  Napi::Value s = o.Get("slot");
  const double slot = s.IsNumber() ? s.As<Napi::Number>().DoubleValue() : -1;
  if (!(slot >= 1) || std::floor(slot) != slot || slot >= static_cast<double>(counters.ElementLength()))
    fail("control.slot must be an integer from 1 to counters.length - 1");
  return {counters.Data(), static_cast<size_t>(slot)};
}

}  // namespace modelseal
