// TEE evidence acquisition: the SEV-SNP and TDX guest ioctls and NVIDIA NVML (dlopen'd, tee_nvml.cc).
//
// The request bytes are built in TypeScript (src/attest/acquire/marshal.ts, unit-tested); this file
// only adds the pointers the kernel needs, performs the call and hands the raw answer back. Device
// and library absence is a value ({ok:false, errno, message}), never an exception; only wrong
// arguments throw (TypeError / RangeError with code BAD_ARGUMENT, native/napi_args.h), and any C++
// exception becomes a coded error. The structs below mirror the uapi headers and are checked with
// static_asserts against the sizes marshal.ts uses.
#include <napi.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "napi_args.h"
#include "registry.h"
#include "tee_nvml.h"

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

Napi::Uint8Array BytesArg(const Napi::CallbackInfo& info, size_t i, const char* name) { return u8_arg(info, i, name); }

std::string StringArg(const Napi::CallbackInfo& info, size_t i, const std::string& dflt) {
  if (info.Length() <= i || info[i].IsUndefined() || info[i].IsNull()) return dflt;
  if (!info[i].IsString()) bad_type(info.Env(), "path arguments must be strings");
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
  if (req.ByteLength() != sizeof(snp_report_req)) bad_range(env, "req must be 96 bytes (struct snp_report_req)");
  if (info.Length() < 2 || !info[1].IsNumber()) bad_type(env, "certsLen must be a number");
  int64_t certs_len = info[1].As<Napi::Number>().Int64Value();
  if (certs_len < 0 || certs_len > 16 * 1024 || certs_len % 4096 != 0) bad_range(env, "certsLen must be 0 or page-aligned and at most 16 KiB");
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
  if (req.ByteLength() != sizeof(tdx_report_req)) bad_range(env, "req must be 1088 bytes (struct tdx_report_req)");
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

// nvmlAttest(nonce: Uint8Array(32), library?: string)
// → {ok, stage?, message?, library, ccState?: {environment, ccFeature, devToolsMode},
//    devices: [{index, ok, message?, architecture?, report?: Uint8Array, certChain?: Uint8Array}]}
Napi::Value NvmlAttestJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Uint8Array nonce = BytesArg(info, 0, "nonce");
  if (nonce.ByteLength() != 32) bad_range(env, "nonce must be 32 bytes");
  std::string library = StringArg(info, 1, "libnvidia-ml.so.1");
  NvmlEvidence ev = NvmlCollect(nonce.Data(), library);
  Napi::Object o = Napi::Object::New(env);
  o.Set("ok", ev.ok);
  o.Set("library", ev.library);
  if (!ev.stage.empty()) o.Set("stage", ev.stage);
  if (!ev.message.empty()) o.Set("message", ev.message);
  if (ev.has_cc_state) {
    Napi::Object s = Napi::Object::New(env);
    s.Set("environment", ev.environment);
    s.Set("ccFeature", ev.cc_feature);
    s.Set("devToolsMode", ev.dev_tools_mode);
    o.Set("ccState", s);
  }
  Napi::Array devices = Napi::Array::New(env, ev.devices.size());
  for (size_t i = 0; i < ev.devices.size(); i++) {
    const NvmlDeviceEvidence& d = ev.devices[i];
    Napi::Object x = Napi::Object::New(env);
    x.Set("index", d.index);
    x.Set("ok", d.ok);
    if (!d.message.empty()) x.Set("message", d.message);
    if (d.architecture >= 0) x.Set("architecture", Napi::Number::New(env, static_cast<double>(d.architecture)));
    if (d.ok) {
      x.Set("report", Napi::Buffer<uint8_t>::Copy(env, d.report.data(), d.report.size()).As<Napi::Uint8Array>());
      x.Set("certChain", Napi::Buffer<uint8_t>::Copy(env, d.cert_chain.data(), d.cert_chain.size()).As<Napi::Uint8Array>());
    }
    devices.Set(i, x);
  }
  o.Set("devices", devices);
  return o;
}

// nvmlProbe(library?: string) → {ok, library, message?}: can the library be loaded and its CC symbols resolved?
Napi::Value NvmlProbeJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string library = StringArg(info, 0, "libnvidia-ml.so.1");
  std::string why = NvmlProbe(library);
  Napi::Object o = Napi::Object::New(env);
  o.Set("ok", why.empty());
  o.Set("library", library);
  if (!why.empty()) o.Set("message", why);
  return o;
}

}  // namespace

constexpr char kTee[] = "TEE evidence";

void RegisterTee(Napi::Env env, Napi::Object exports) {
  exports.Set("snpGetReport", Napi::Function::New(env, guarded_fn<SnpGetReportJs, kTee>, "snpGetReport"));
  exports.Set("tdxGetReport0", Napi::Function::New(env, guarded_fn<TdxGetReport0Js, kTee>, "tdxGetReport0"));
  exports.Set("nvmlAttest", Napi::Function::New(env, guarded_fn<NvmlAttestJs, kTee>, "nvmlAttest"));
  exports.Set("nvmlProbe", Napi::Function::New(env, guarded_fn<NvmlProbeJs, kTee>, "nvmlProbe"));
}

}  // namespace modelseal
