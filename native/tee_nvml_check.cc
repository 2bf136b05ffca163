// Device check for the NVML path without Node: build with
//   g++ -std=c++17 -O2 -Inative native/tee_nvml.cc native/tee_nvml_check.cc -ldl -o nvml_check
// and run on a GPU machine. Prints what NvmlCollect got (CC state, per GPU: report size or the
// error). Not part of the addon (not listed in CMakeLists.txt).
#include <cstdio>
#include <cstring>

#include "tee_nvml.h"

int main(int argc, char** argv) {
  const char* lib = argc > 1 ? argv[1] : "libnvidia-ml.so.1";
  uint8_t nonce[32];
  for (int i = 0; i < 32; i++) nonce[i] = static_cast<uint8_t>(i * 7 + 1);
  std::string why = modelseal::NvmlProbe(lib);
  std::printf("probe %s: %s\n", lib, why.empty() ? "ok" : why.c_str());
  modelseal::NvmlEvidence ev = modelseal::NvmlCollect(nonce, lib);
  std::printf("ok=%d stage=%s message=%s\n", ev.ok, ev.stage.c_str(), ev.message.c_str());
  if (ev.has_cc_state) std::printf("ccState environment=%u ccFeature=%u devToolsMode=%u\n", ev.environment, ev.cc_feature, ev.dev_tools_mode);
  for (const auto& d : ev.devices) {
    std::printf("gpu %u ok=%d arch=%lld report=%zu certChain=%zu %s\n", d.index, d.ok, static_cast<long long>(d.architecture), d.report.size(), d.cert_chain.size(), d.message.c_str());
    if (d.ok && d.report.size() >= 37) {
      std::printf("  spdm version 0x%02x code 0x%02x nonce-echo %s\n", d.report[0], d.report[1], std::memcmp(d.report.data() + 4, nonce, 32) == 0 ? "yes" : "NO");
    }
  }
  return 0;
}
