// See tee_nvml.h. Struct layouts from nvml.h (R535+): nvmlConfComputeGpuAttestationReport_t,
// nvmlConfComputeGpuCertificate_t, nvmlConfComputeSystemState_t.
#include "tee_nvml.h"

#include <cstring>

#include <dlfcn.h>

namespace modelseal {

namespace {

using nvmlReturn_t = int;
using nvmlDevice_t = void*;
struct nvmlConfComputeSystemState_t {
  unsigned int environment;
  unsigned int ccFeature;
  unsigned int devToolsMode;
};
struct nvmlConfComputeGpuAttestationReport_t {
  unsigned int isCecAttestationReportPresent;
  unsigned int attestationReportSize;
  unsigned int cecAttestationReportSize;
  unsigned char nonce[0x20];
  unsigned char attestationReport[0x2000];
  unsigned char cecAttestationReport[0x1000];
};
struct nvmlConfComputeGpuCertificate_t {
  unsigned int certChainSize;
  unsigned int attestationCertChainSize;
  unsigned char certChain[0x1000];
  unsigned char attestationCertChain[0x1400];
};

struct Nvml {
  void* lib = nullptr;
  nvmlReturn_t (*init)() = nullptr;
  nvmlReturn_t (*shutdown)() = nullptr;
  const char* (*errorString)(nvmlReturn_t) = nullptr;
  nvmlReturn_t (*getCount)(unsigned int*) = nullptr;
  nvmlReturn_t (*getHandle)(unsigned int, nvmlDevice_t*) = nullptr;
  nvmlReturn_t (*getReport)(nvmlDevice_t, nvmlConfComputeGpuAttestationReport_t*) = nullptr;
  nvmlReturn_t (*getCert)(nvmlDevice_t, nvmlConfComputeGpuCertificate_t*) = nullptr;
  nvmlReturn_t (*getCcState)(nvmlConfComputeSystemState_t*) = nullptr;
  nvmlReturn_t (*getArch)(nvmlDevice_t, unsigned int*) = nullptr;
  std::string error;
};

template <typename F>
bool Resolve(Nvml& n, F& fn, const char* name, bool required) {
  fn = reinterpret_cast<F>(::dlsym(n.lib, name));
  if (!fn && required) n.error = std::string("symbol ") + name + " not found (driver too old for confidential computing?)";
  return fn != nullptr || !required;
}

bool LoadNvml(Nvml& n, const std::string& library) {
  n.lib = ::dlopen(library.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!n.lib) {
    const char* e = ::dlerror();
    n.error = "cannot load " + library + ": " + (e ? e : "unknown dlopen error");
    return false;
  }
  return Resolve(n, n.init, "nvmlInit_v2", true) && Resolve(n, n.shutdown, "nvmlShutdown", true) &&
         Resolve(n, n.errorString, "nvmlErrorString", true) && Resolve(n, n.getCount, "nvmlDeviceGetCount_v2", true) &&
         Resolve(n, n.getHandle, "nvmlDeviceGetHandleByIndex_v2", true) &&
         Resolve(n, n.getReport, "nvmlDeviceGetConfComputeGpuAttestationReport", true) &&
         Resolve(n, n.getCert, "nvmlDeviceGetConfComputeGpuCertificate", true) &&
         Resolve(n, n.getCcState, "nvmlSystemGetConfComputeState", false) && Resolve(n, n.getArch, "nvmlDeviceGetArchitecture", false);
}

std::string NvmlErr(const Nvml& n, nvmlReturn_t r) {
  const char* s = n.errorString ? n.errorString(r) : nullptr;
  return std::string(s ? s : "unknown NVML error") + " (" + std::to_string(r) + ")";
}

}  // namespace

NvmlEvidence NvmlCollect(const uint8_t* nonce32, const std::string& library) {
  NvmlEvidence out;
  out.library = library;
  Nvml n;
  if (!LoadNvml(n, library)) {
    out.stage = "dlopen";
    out.message = n.error;
    if (n.lib) ::dlclose(n.lib);
    return out;
  }
  nvmlReturn_t r = n.init();
  if (r != 0) {
    out.stage = "nvmlInit_v2";
    out.message = "nvmlInit_v2: " + NvmlErr(n, r);
    ::dlclose(n.lib);
    return out;
  }
  if (n.getCcState) {
    nvmlConfComputeSystemState_t st{};
    if (n.getCcState(&st) == 0) {
      out.has_cc_state = true;
      out.environment = st.environment;
      out.cc_feature = st.ccFeature;
      out.dev_tools_mode = st.devToolsMode;
    }
  }
  unsigned int count = 0;
  r = n.getCount(&count);
  if (r != 0) {
    out.stage = "nvmlDeviceGetCount_v2";
    out.message = "nvmlDeviceGetCount_v2: " + NvmlErr(n, r);
  } else {
    out.ok = true;
    // The structs are 12 KiB and 9 KiB: heap, not stack.
    std::vector<uint8_t> rep_buf(sizeof(nvmlConfComputeGpuAttestationReport_t));
    std::vector<uint8_t> cert_buf(sizeof(nvmlConfComputeGpuCertificate_t));
    for (unsigned int i = 0; i < count && i < 64; i++) {
      NvmlDeviceEvidence d;
      d.index = i;
      nvmlDevice_t dev = nullptr;
      if ((r = n.getHandle(i, &dev)) != 0) {
        d.message = "nvmlDeviceGetHandleByIndex_v2: " + NvmlErr(n, r);
        out.devices.push_back(std::move(d));
        continue;
      }
      unsigned int arch = 0;
      if (n.getArch && n.getArch(dev, &arch) == 0) d.architecture = arch;
      auto* rep = reinterpret_cast<nvmlConfComputeGpuAttestationReport_t*>(rep_buf.data());
      std::memset(rep, 0, rep_buf.size());
      std::memcpy(rep->nonce, nonce32, 32);
      if ((r = n.getReport(dev, rep)) != 0) {
        d.message = "nvmlDeviceGetConfComputeGpuAttestationReport: " + NvmlErr(n, r) + " (is the GPU in confidential-computing mode?)";
        out.devices.push_back(std::move(d));
        continue;
      }
      auto* cert = reinterpret_cast<nvmlConfComputeGpuCertificate_t*>(cert_buf.data());
      std::memset(cert, 0, cert_buf.size());
      if ((r = n.getCert(dev, cert)) != 0) {
        d.message = "nvmlDeviceGetConfComputeGpuCertificate: " + NvmlErr(n, r);
        out.devices.push_back(std::move(d));
        continue;
      }
      // Sizes come from the driver: clamp to the buffers rather than trust them.
      size_t rs = rep->attestationReportSize <= sizeof(rep->attestationReport) ? rep->attestationReportSize : sizeof(rep->attestationReport);
      size_t cs = cert->attestationCertChainSize <= sizeof(cert->attestationCertChain) ? cert->attestationCertChainSize : sizeof(cert->attestationCertChain);
      d.report.assign(rep->attestationReport, rep->attestationReport + rs);
      d.cert_chain.assign(cert->attestationCertChain, cert->attestationCertChain + cs);
      d.ok = true;
      out.devices.push_back(std::move(d));
    }
  }
  n.shutdown();
  ::dlclose(n.lib);
  return out;
}

std::string NvmlProbe(const std::string& library) {
  Nvml n;
  bool ok = LoadNvml(n, library);
  if (n.lib) ::dlclose(n.lib);
  return ok ? std::string() : n.error;
}

}  // namespace modelseal
