// File range reads into page-aligned native memory (no copies through JS).
#pragma once

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>

#include <mutex>

#include "coded_error.h"

#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

namespace modelseal {

// A page-aligned buffer: on the Zen 3 development host pread into a buffer at page offset 16 ran
// 4-5x slower than into a page-aligned one (1.5 against 7.6 GB/s), the REP MOVSB 4K-aliasing path.
class AlignedBuffer {
 public:
  AlignedBuffer() = default;
  explicit AlignedBuffer(size_t n) { reserve(n); }
  ~AlignedBuffer() { std::free(p_); }
  AlignedBuffer(const AlignedBuffer&) = delete;
  AlignedBuffer& operator=(const AlignedBuffer&) = delete;
  void reserve(size_t n) {
    if (n <= cap_) return;
    std::free(p_);
    p_ = nullptr;
    cap_ = 0;
    size_t rounded = (n + 4095) & ~size_t(4095);
    if (posix_memalign(reinterpret_cast<void**>(&p_), 4096, rounded) != 0) throw std::bad_alloc();
    cap_ = rounded;
  }
  uint8_t* data() { return p_; }
  size_t capacity() const { return cap_; }

 private:
  uint8_t* p_ = nullptr;
  size_t cap_ = 0;
};

// What the walk saw of a file (device and inode as JS numbers, i.e. doubles, the way Node's fs.Stats
// reports them); `set` false when the caller has no record (tests, direct calls).
struct FileIdentity {
  bool set = false;
  double dev = 0;
  double ino = 0;
};

// An open file descriptor, closed on scope exit.
class Fd {
 public:
  explicit Fd(const std::string& path, const FileIdentity& expect = FileIdentity()) : path_(path) {
    // O_NONBLOCK: opening a FIFO must not block forever; it is refused below like any non-file.
    // O_NOFOLLOW: a file swapped for a symbolic link after the walk is not followed out of the model.
    fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOFOLLOW);
    if (fd_ < 0) {
      int e = errno;
      if (e == ELOOP) throw IoError("FILE_CHANGED", path + " was replaced (it is now a symbolic link) after the model was listed; hash again once the model is stable");
      throw IoError(e == ENOENT ? "FILE_NOT_FOUND" : ((e == EACCES || e == EPERM) ? "FILE_UNREADABLE" : "IO_ERROR"),
                    "cannot open " + path + ": " + std::strerror(e));
    }
    struct stat st;
    if (::fstat(fd_, &st) != 0 || !S_ISREG(st.st_mode)) {
      ::close(fd_);
      fd_ = -1;
      if (expect.set) throw IoError("FILE_CHANGED", path + " was replaced (it is no longer a regular file) after the model was listed; hash again once the model is stable");
      throw IoError("UNSUPPORTED_FILE_TYPE", path + " is not a regular file (a directory, device or pipe); only regular files can be hashed");
    }
    if (expect.set && (static_cast<double>(st.st_dev) != expect.dev || static_cast<double>(st.st_ino) != expect.ino)) {
      ::close(fd_);
      fd_ = -1;
      throw IoError("FILE_CHANGED", path + " was replaced (it is now a different file) after the model was listed; hash again once the model is stable");
    }
#ifdef POSIX_FADV_SEQUENTIAL
    ::posix_fadvise(fd_, 0, 0, POSIX_FADV_SEQUENTIAL);
#endif
  }
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  const std::string& path() const { return path_; }

  // Reads exactly n bytes at offset; a short read means the file shrank while being hashed.
  void pread_full(uint8_t* dst, size_t n, uint64_t offset) const {
    size_t done = 0;
    while (done < n) {
      ssize_t r = ::pread(fd_, dst + done, n - done, static_cast<off_t>(offset + done));
      if (r < 0) {
        if (errno == EINTR) continue;
        throw IoError("IO_ERROR", "read failed on " + path_ + ": " + std::strerror(errno));
      }
      if (r == 0) throw IoError("FILE_CHANGED", path_ + " became shorter while it was being hashed");
      done += static_cast<size_t>(r);
    }
  }

 private:
  int fd_ = -1;
  std::string path_;
};

// ---------------------------------------------------------------------------------------------
// Reading mapped files without crashing when they shrink.
//
// Hashing straight out of an mmap of the page cache avoids the copy that pread makes (measured
// ~15-25% faster for SHA-256 here, see bench/native-sha256.mjs), but touching a mapped page past
// the end of a file that was truncated meanwhile raises SIGBUS, which would kill the process. So
// every read of mapped memory runs inside guard_sigbus(): a process-wide SIGBUS handler (installed
// once, chaining to any previous handler for faults that are not ours) jumps back out of the
// guarded call on the faulting thread, and the caller reports FILE_CHANGED like a short pread.
// The guarded function must not own anything with a destructor (the jump skips its frames).

namespace sigbus_detail {

struct ThreadState {
  sigjmp_buf jmp;
  volatile sig_atomic_t armed = 0;
  void* volatile fault_addr = nullptr;
};
inline thread_local ThreadState tl_state;
inline struct sigaction previous_action;

inline void handler(int sig, siginfo_t* info, void* ctx) {
  ThreadState& s = tl_state;  // already touched by guard_sigbus on this thread, so no allocation here
  if (s.armed) {
    s.armed = 0;
    s.fault_addr = info ? info->si_addr : nullptr;
    siglongjmp(s.jmp, 1);
  }
  // Not a guarded read: behave as if we were not here.
  if (previous_action.sa_flags & SA_SIGINFO) {
    if (previous_action.sa_sigaction) return previous_action.sa_sigaction(sig, info, ctx);
  } else if (previous_action.sa_handler != SIG_DFL && previous_action.sa_handler != SIG_IGN) {
    return previous_action.sa_handler(sig);
  }
  // Default action: restore it; returning re-executes the faulting access, which then terminates.
  sigaction(SIGBUS, &previous_action, nullptr);
}

inline void install() {
  static std::once_flag once;
  std::call_once(once, [] {
    struct sigaction sa;
    std::memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = handler;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigaction(SIGBUS, &sa, &previous_action);
  });
}

}  // namespace sigbus_detail

// Calls fn(arg); returns false (and *fault_addr, if given) when it touched an unbacked mapped page.
// The signal mask is saved and restored (sigsetjmp(…, 1)) because SIGBUS is blocked inside the handler.
inline bool guard_sigbus(void (*fn)(void*), void* arg, void** fault_addr = nullptr) {
  sigbus_detail::install();
  sigbus_detail::ThreadState& s = sigbus_detail::tl_state;
  if (sigsetjmp(s.jmp, 1) != 0) {
    if (fault_addr) *fault_addr = s.fault_addr;
    return false;
  }
  s.armed = 1;
  fn(arg);
  s.armed = 0;
  return true;
}

// ---------------------------------------------------------------------------------------------
// Whether reading a mapped file range through its mapping costs less than copying it with pread.
//
// It depends on the page cache's folio size, which nothing reports to user space: large folios map
// by PMD (one fault per 2 MiB, 2 MiB TLB entries) and cost almost nothing to map, while 4 KiB
// folios (files written through a pipe or in small writes) fault every 64 KiB (the kernel's
// fault-around), come through 4 KiB TLB entries and tear down 512 PTEs per 2 MiB at unmap.
// Measured on the 2-vCPU EPYC Milan VM (6.18, ext4), 2 GiB hashed by one thread, in-process:
// BLAKE3 on 2 MiB folios mapped 0.60 s CPU vs 0.74 s by 1 MiB pread (the copy); on 4 KiB folios
// mapped 0.89-0.90 s vs 0.81 s by pread. SHA-256 lanes: figures at MmapSource (sha256_lanes.cc).
//
// The probe: touch the first 2 MiB-aligned file offset of the range and the page 1 MiB after it
// and count this thread's page faults: a PMD-mapped large folio takes both with one fault, 4 KiB
// folios (or a part of the file read back in small folios after memory pressure) take two, and a
// major fault counts too. Decided per range, not per file: a file's page cache can be mixed.
// `p` maps file bytes [offset, offset + len) (page-cache backed, readable); the two touched pages
// would be read by the caller anyway. Ranges too short to hold the probe count as cheap (mapped,
// as before the probe existed), and so does a platform without per-thread fault counts. False
// when the touch raised SIGBUS (the file shrank): the caller's pread path then reports it.
inline bool mapping_cheap(const uint8_t* p, uint64_t offset, uint64_t len) {
#if defined(RUSAGE_THREAD)
  constexpr uint64_t PMD = uint64_t(2) << 20;
  const uint64_t a = (offset + PMD - 1) & ~(PMD - 1);
  const uint64_t b = a + PMD / 2;
  if (b >= offset + len) return true;
  struct Touch {
    const volatile uint8_t* a;
    const volatile uint8_t* b;
  } touch{p + (a - offset), p + (b - offset)};
  struct rusage before, after;
  if (::getrusage(RUSAGE_THREAD, &before) != 0) return true;
  if (!guard_sigbus([](void* arg) {
        const Touch* t = static_cast<const Touch*>(arg);
        (void)*t->a;
        (void)*t->b;
      }, &touch))
    return false;
  if (::getrusage(RUSAGE_THREAD, &after) != 0) return true;
  const long faults = (after.ru_minflt - before.ru_minflt) + (after.ru_majflt - before.ru_majflt);
  return faults <= 1;
#else
  (void)p;
  (void)offset;
  (void)len;
  return true;
#endif
}

}  // namespace modelseal
