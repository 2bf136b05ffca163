// The one C++ error type that carries a modelseal error code (src/error-codes.ts lists them all).
// Kernels and readers throw it; the N-API layer (napi_args.h) turns it into a JS error whose `code`
// property the JS side maps to a ModelsealError.
#pragma once

#include <stdexcept>
#include <string>
#include <utility>

namespace modelseal {

// `code` is a catalogued error code such as FILE_CHANGED or IO_ERROR.
struct IoError : std::runtime_error {
  std::string code;
  IoError(std::string c, const std::string& msg) : std::runtime_error(msg), code(std::move(c)) {}
};

}  // namespace modelseal
