// Each area of the addon registers its functions from its own source file.
#pragma once
#include <napi.h>

namespace modelseal {
void RegisterSha256(Napi::Env env, Napi::Object exports);  // native/sha256_napi.cc
void RegisterSha256Merkle(Napi::Env env, Napi::Object exports);  // native/sha256_merkle_napi.cc
void RegisterBlake3(Napi::Env env, Napi::Object exports);  // native/blake3_napi.cc
void RegisterTee(Napi::Env env, Napi::Object exports);     // native/tee_napi.cc
void RegisterVerifiedUnits(Napi::Env env, Napi::Object exports);  // native/verified_units_napi.cc
}  // namespace modelseal
