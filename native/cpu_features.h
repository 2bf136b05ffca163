// CPU feature detection, done once. Kernels are chosen from these flags at run time.
#pragma once

namespace modelseal {

struct CpuFeatures {
  bool sse41 = false;
  bool ssse3 = false;
  bool avx = false;
  bool avx2 = false;
  bool sha_ni = false;
  bool avx512f = false;
  bool avx512vl = false;
  bool neon = false;
};

// Detected once (thread-safe static); honours OS support for AVX/AVX-512 state (XGETBV).
const CpuFeatures& cpu_features();

}  // namespace modelseal
