// NVIDIA NVML confidential-computing evidence, without Node-API: dlopen of libnvidia-ml.so.1 so that
// the addon loads on machines without a driver, and a plain C++ result that the N-API layer
// (tee_napi.cc) converts and that native/tee_nvml_check.cc prints on a GPU machine.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace modelseal {

struct NvmlDeviceEvidence {
  unsigned index = 0;
  bool ok = false;
  std::string message;
  int64_t architecture = -1;  // nvmlDeviceArchitecture_t (9 Hopper, 10 Blackwell); -1 unknown
  std::vector<uint8_t> report;      // SPDM GET_MEASUREMENTS request || response
  std::vector<uint8_t> cert_chain;  // attestationCertChain (PEM)
};

struct NvmlEvidence {
  bool ok = false;
  std::string stage;  // where it failed: dlopen, nvmlInit_v2, nvmlDeviceGetCount_v2
  std::string message;
  std::string library;
  bool has_cc_state = false;
  unsigned environment = 0, cc_feature = 0, dev_tools_mode = 0;
  std::vector<NvmlDeviceEvidence> devices;
};

// Takes every GPU's attestation report for `nonce` (32 bytes) and its attestation certificate chain.
NvmlEvidence NvmlCollect(const uint8_t* nonce32, const std::string& library);

// Empty when `library` loads and resolves every symbol NvmlCollect needs; otherwise why not.
std::string NvmlProbe(const std::string& library);

}  // namespace modelseal
