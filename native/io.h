// File range reads into page-aligned native memory (no copies through JS).
#pragma once

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace modelseal {

// Thrown for I/O problems; the binding layer turns it into a JS error whose `code` is `code`.
struct IoError : std::runtime_error {
  std::string code;
  IoError(std::string c, const std::string& msg) : std::runtime_error(msg), code(std::move(c)) {}
};

// A page-aligned buffer (reads into unaligned memory are much slower here, see perf-anchors.md).
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

// An open file descriptor, closed on scope exit.
class Fd {
 public:
  explicit Fd(const std::string& path) : path_(path) {
    fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) {
      int e = errno;
      throw IoError(e == ENOENT ? "FILE_NOT_FOUND" : (e == EACCES ? "FILE_UNREADABLE" : "IO_ERROR"),
                    "cannot open " + path + ": " + std::strerror(e));
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

}  // namespace modelseal
