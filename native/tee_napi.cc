// TEE evidence acquisition: the SEV-SNP and TDX guest ioctls and NVIDIA NVML (dlopen'd).
//
// The request bytes are built in TypeScript (src/attest/acquire/marshal.ts, unit-tested); this file
// only adds the pointers the kernel needs, performs the call and hands the raw answer back. Device
// and library absence is a value ({ok:false, errno, message}), never an exception; only wrong
// argument types throw (TypeError). The structs below mirror the uapi headers and are checked with
// static_asserts against the sizes marshal.ts uses.
#include <napi.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include <dlfcn.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "registry.h"

namespace modelseal {

namespace {

// include/uapi/linux/sev-guest.h
struct snp_report_req {
  uint8_t user_data[64];
  uint32_t vmpl;
  uint8_t rsvd[28];
};
struct snp_report_resp {
  uint8_t data[4000];
};
struct snp_ext_report_req {
  snp_report_req data;
  uint64_t certs_address;
  uint32_t certs_len;
};
struct snp_guest_request_ioctl {
  uint8_t msg_version;
  uint64_t req_data;
  uint64_t resp_data;
  uint64_t exitinfo2;  // union { exitinfo2; struct { u32 fw_error; u32 vmm_error; } }
};
static_assert(sizeof(snp_report_req) == 96, "snp_report_req is 96 bytes");
static_assert(sizeof(snp_ext_report_req) == 112, "snp_ext_report_req is 112 bytes");
static_assert(sizeof(snp_guest_request_ioctl) == 32, "snp_guest_request_ioctl is 32 bytes");
static_assert(offsetof(snp_guest_request_ioctl, exitinfo2) == 24, "exitinfo2 at 24");

// include/uapi/linux/tdx-guest.h
struct tdx_report_req {
  uint8_t reportdata[64];
  uint8_t tdreport[1024];
};
static_assert(sizeof(tdx_report_req) == 1088, "tdx_report_req is 1088 bytes");

constexpr unsigned long kIocWrite = 1U, kIocRead = 2U;
constexpr unsigned long Iowr(unsigned type, unsigned nr, unsigned long size) {
  return ((kIocRead | kIocWrite) << 30) | (size << 16) | (type << 8) | nr;
}
constexpr unsigned long kSnpGetReport = Iowr('S', 0x0, sizeof(snp_guest_request_ioctl));
constexpr unsigned long kSnpGetExtReport = Iowr('S', 0x2, sizeof(snp_guest_request_ioctl));
constexpr unsigned long kTdxCmdGetReport0 = Iowr('T', 1, sizeof(tdx_report_req));
static_assert(kSnpGetExtReport == 0xC0205302UL, "SNP_GET_EXT_REPORT");
static_assert(kTdxCmdGetReport0 == 0xC4405401UL, "TDX_CMD_GET_REPORT0");

Napi::Uint8Array BytesArg(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (info.Length() <= i || !info[i].IsTypedArray() || info[i].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
    throw Napi::TypeError::New(info.Env(), std::string(name) + " must be a Uint8Array");
  }
  return info[i].As<Napi::Uint8Array>();
}

std::string StringArg(const Napi::CallbackInfo& info, size_t i, const std::string& dflt) {
  if (info.Length() <= i || info[i].IsUndefined() || info[i].IsNull()) return dflt;
  if (!info[i].IsString()) throw Napi::TypeError::New(info.Env(), "path arguments must be strings");
  return info[i].As<Napi::String>().Utf8Value();
}

Napi::Object Failure(Napi::Env env, const std::string& stage, int err, const std::string& path) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("ok", false);
  o.Set("stage", stage);
  o.Set("errno", err);
  o.Set("message", stage + " " + path + ": " + std::strerror(err));
  return o;
}

// Opens a guest device read-write; -errno on failure.
int OpenDevice(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  return fd < 0 ? -errno : fd;
}

// snpGetReport(req: Uint8Array(96), certsLen: number, devicePath?: string)
// certsLen 0 → SNP_GET_REPORT; otherwise SNP_GET_EXT_REPORT with a page-aligned certificate buffer.
// → {ok, errno, exitinfo2 (bigint), resp (4000 B), certs, certsLen}
Napi::Value SnpGetReportJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Uint8Array req = BytesArg(info, 0, "req");
  if (req.ByteLength() != sizeof(snp_report_req)) throw Napi::RangeError::New(env, "req must be 96 bytes (struct snp_report_req)");
  if (info.Length() < 2 || !info[1].IsNumber()) throw Napi::TypeError::New(env, "certsLen must be a number");
  int64_t certs_len = info[1].As<Napi::Number>().Int64Value();
  if (certs_len < 0 || certs_len > 16 * 1024 || certs_len % 4096 != 0) throw Napi::RangeError::New(env, "certsLen must be 0 or page-aligned and at most 16 KiB");
  std::string path = StringArg(info, 2, "/dev/sev-guest");

  int fd = OpenDevice(path);
  if (fd < 0) return Failure(env, "open", -fd, path);
  snp_ext_report_req ext{};
  std::memcpy(&ext.data, req.Data(), sizeof(snp_report_req));
  std::vector<uint8_t> certs(static_cast<size_t>(certs_len));
  ext.certs_address = certs.empty() ? 0 : reinterpret_cast<uintptr_t>(certs.data());
  ext.certs_len = static_cast<uint32_t>(certs_len);
  snp_report_resp resp{};
  snp_guest_request_ioctl io{};
  io.msg_version = 1;
  io.req_data = certs_len > 0 ? reinterpret_cast<uintptr_t>(&ext) : reinterpret_cast<uintptr_t>(&ext.data);
  io.resp_data = reinterpret_cast<uintptr_t>(&resp);
  int rc;
  do {
    rc = ::ioctl(fd, certs_len > 0 ? kSnpGetExtReport : kSnpGetReport, &io);
  } while (rc < 0 && errno == EINTR);
  int err = rc < 0 ? errno : 0;
  ::close(fd);

  Napi::Object o = Napi::Object::New(env);
  o.Set("ok", rc == 0);
  o.Set("errno", err);
  o.Set("exitinfo2", Napi::BigInt::New(env, static_cast<uint64_t>(io.exitinfo2)));
  o.Set("certsLen", Napi::Number::New(env, ext.certs_len));  // the driver updates it on INVALID_LEN
  if (rc != 0) o.Set("message", std::string(certs_len > 0 ? "SNP_GET_EXT_REPORT" : "SNP_GET_REPORT") + " on " + path + ": " + std::strerror(err));
  o.Set("resp", Napi::Uint8Array::New(env, sizeof(resp.data)));
  std::memcpy(o.Get("resp").As<Napi::Uint8Array>().Data(), resp.data, sizeof(resp.data));
  Napi::Uint8Array c = Napi::Uint8Array::New(env, certs.size());
  if (!certs.empty()) std::memcpy(c.Data(), certs.data(), certs.size());
  o.Set("certs", c);
  return o;
}

// tdxGetReport0(req: Uint8Array(1088), devicePath?: string) → {ok, errno, buf (1088 B)}
Napi::Value TdxGetReport0Js(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Uint8Array req = BytesArg(info, 0, "req");
  if (req.ByteLength() != sizeof(tdx_report_req)) throw Napi::RangeError::New(env, "req must be 1088 bytes (struct tdx_report_req)");
  std::string path = StringArg(info, 1, "/dev/tdx_guest");
  int fd = OpenDevice(path);
  if (fd < 0) return Failure(env, "open", -fd, path);
  tdx_report_req r{};
  std::memcpy(&r, req.Data(), sizeof(r));
  int rc;
  do {
    rc = ::ioctl(fd, kTdxCmdGetReport0, &r);
  } while (rc < 0 && errno == EINTR);
  int err = rc < 0 ? errno : 0;
  ::close(fd);
  Napi::Object o = Napi::Object::New(env);
  o.Set("ok", rc == 0);
  o.Set("errno", err);
  if (rc != 0) o.Set("message", "TDX_CMD_GET_REPORT0 on " + path + ": " + std::strerror(err));
  Napi::Uint8Array b = Napi::Uint8Array::New(env, sizeof(r));
  std::memcpy(b.Data(), &r, sizeof(r));
  o.Set("buf", b);
  return o;
}

// --- NVML (libnvidia-ml.so.1, dlopen'd: the addon must load on machines without a driver) ---------

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

// nvmlAttest(nonce: Uint8Array(32), library?: string)
// → {ok, stage?, message?, library, ccState?: {environment, ccFeature, devToolsMode},
//    devices: [{index, ok, message?, architecture?, report?: Uint8Array, certChain?: Uint8Array}]}
Napi::Value NvmlAttestJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Uint8Array nonce = BytesArg(info, 0, "nonce");
  if (nonce.ByteLength() != 32) throw Napi::RangeError::New(env, "nonce must be 32 bytes");
  std::string library = StringArg(info, 1, "libnvidia-ml.so.1");
  Napi::Object o = Napi::Object::New(env);
  o.Set("library", library);
  Napi::Array devices = Napi::Array::New(env);
  o.Set("devices", devices);
  Nvml n;
  if (!LoadNvml(n, library)) {
    o.Set("ok", false);
    o.Set("stage", "dlopen");
    o.Set("message", n.error);
    if (n.lib) ::dlclose(n.lib);
    return o;
  }
  nvmlReturn_t r = n.init();
  if (r != 0) {
    o.Set("ok", false);
    o.Set("stage", "nvmlInit_v2");
    o.Set("message", "nvmlInit_v2: " + NvmlErr(n, r));
    ::dlclose(n.lib);
    return o;
  }
  if (n.getCcState) {
    nvmlConfComputeSystemState_t st{};
    if (n.getCcState(&st) == 0) {
      Napi::Object s = Napi::Object::New(env);
      s.Set("environment", st.environment);
      s.Set("ccFeature", st.ccFeature);
      s.Set("devToolsMode", st.devToolsMode);
      o.Set("ccState", s);
    }
  }
  unsigned int count = 0;
  r = n.getCount(&count);
  if (r != 0) {
    o.Set("ok", false);
    o.Set("stage", "nvmlDeviceGetCount_v2");
    o.Set("message", "nvmlDeviceGetCount_v2: " + NvmlErr(n, r));
  } else {
    o.Set("ok", true);
    // The structs are 12 KiB and 9 KiB: heap, not stack.
    std::vector<uint8_t> rep_buf(sizeof(nvmlConfComputeGpuAttestationReport_t));
    std::vector<uint8_t> cert_buf(sizeof(nvmlConfComputeGpuCertificate_t));
    for (unsigned int i = 0; i < count && i < 64; i++) {
      Napi::Object d = Napi::Object::New(env);
      d.Set("index", i);
      devices.Set(devices.Length(), d);
      nvmlDevice_t dev = nullptr;
      if ((r = n.getHandle(i, &dev)) != 0) {
        d.Set("ok", false);
        d.Set("message", "nvmlDeviceGetHandleByIndex_v2: " + NvmlErr(n, r));
        continue;
      }
      unsigned int arch = 0;
      if (n.getArch && n.getArch(dev, &arch) == 0) d.Set("architecture", arch);
      auto* rep = reinterpret_cast<nvmlConfComputeGpuAttestationReport_t*>(rep_buf.data());
      std::memset(rep, 0, rep_buf.size());
      std::memcpy(rep->nonce, nonce.Data(), 32);
      if ((r = n.getReport(dev, rep)) != 0) {
        d.Set("ok", false);
        d.Set("message", "nvmlDeviceGetConfComputeGpuAttestationReport: " + NvmlErr(n, r) + " (is the GPU in confidential-computing mode?)");
        continue;
      }
      auto* cert = reinterpret_cast<nvmlConfComputeGpuCertificate_t*>(cert_buf.data());
      std::memset(cert, 0, cert_buf.size());
      if ((r = n.getCert(dev, cert)) != 0) {
        d.Set("ok", false);
        d.Set("message", "nvmlDeviceGetConfComputeGpuCertificate: " + NvmlErr(n, r));
        continue;
      }
      // Sizes come from the driver: clamp to the buffers rather than trust them.
      size_t rs = rep->attestationReportSize <= sizeof(rep->attestationReport) ? rep->attestationReportSize : sizeof(rep->attestationReport);
      size_t cs = cert->attestationCertChainSize <= sizeof(cert->attestationCertChain) ? cert->attestationCertChainSize : sizeof(cert->attestationCertChain);
      Napi::Uint8Array rb = Napi::Uint8Array::New(env, rs);
      std::memcpy(rb.Data(), rep->attestationReport, rs);
      Napi::Uint8Array cb = Napi::Uint8Array::New(env, cs);
      std::memcpy(cb.Data(), cert->attestationCertChain, cs);
      d.Set("ok", true);
      d.Set("report", rb);
      d.Set("certChain", cb);
    }
  }
  n.shutdown();
  ::dlclose(n.lib);
  return o;
}

// nvmlProbe(library?: string) → {ok, message?} : can the library be loaded and its CC symbols resolved?
Napi::Value NvmlProbeJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string library = StringArg(info, 0, "libnvidia-ml.so.1");
  Nvml n;
  bool ok = LoadNvml(n, library);
  if (n.lib) ::dlclose(n.lib);
  Napi::Object o = Napi::Object::New(env);
  o.Set("ok", ok);
  o.Set("library", library);
  if (!ok) o.Set("message", n.error);
  return o;
}

}  // namespace

void RegisterTee(Napi::Env env, Napi::Object exports) {
  exports.Set("snpGetReport", Napi::Function::New(env, SnpGetReportJs, "snpGetReport"));
  exports.Set("tdxGetReport0", Napi::Function::New(env, TdxGetReport0Js, "tdxGetReport0"));
  exports.Set("nvmlAttest", Napi::Function::New(env, NvmlAttestJs, "nvmlAttest"));
  exports.Set("nvmlProbe", Napi::Function::New(env, NvmlProbeJs, "nvmlProbe"));
}

}  // namespace modelseal
