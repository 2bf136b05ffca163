// How file ranges are read when memory is short: the one place that decides it for every native
// reader (SHA-256 lanes, BLAKE3 ranges).
//
// Normally the readers hash straight out of mapped windows of the page cache (16 MiB per
// SHA-256 lane, 4 MiB for BLAKE3) with POSIX_FADV_SEQUENTIAL readahead (twice read_ahead_kb per
// stream; 8 MiB × 2 on the development host). Under a tight memory limit those windows and that
// readahead do not fit: pages are evicted before they are hashed and read again, so the same bytes
// are fetched from storage many times. Measured (bench/pressure.mjs, 1.5 GiB file, 16 MiB shards,
// 2 workers, cgroup v1 limit; bench/results/pressure-amd-epyc-2vcpu-2026-12-04.md): storage reads
// 1.05x the file at 2 GiB, 1.96x at 160 MiB, 5.98x at 100 MiB (user+sys 1.5 s → 10.4 s); 1.05x at
// every limit on the path below. When memory is short the readers therefore copy with pread in
// small pieces, disable kernel readahead on the descriptor, ask for the next 2 MiB themselves
// (POSIX_FADV_WILLNEED) and drop each piece from the cache once copied (POSIX_FADV_DONTNEED), so
// a reader holds about 2 MiB per lane of page cache instead of tens of MiB.
#pragma once

#include <fcntl.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>

#include "io.h"

namespace modelseal {

// Below max(LOW_MEMORY_AVAILABLE_BYTES, LOW_MEMORY_BYTES_PER_CPU × online CPUs) of available memory
// (the smaller of MemAvailable and every enclosing cgroup's limit − usage + file cache) the
// low-memory read path is taken. With 2 workers at 512 MiB the default path read each byte ~1.1x,
// at 256 MiB 1.45x; each worker maps up to 32 MiB plus readahead, hence the per-CPU term.
// src/engine/memory.ts applies the same rule to the number of workers.
constexpr uint64_t LOW_MEMORY_AVAILABLE_BYTES = uint64_t(512) << 20;
constexpr uint64_t LOW_MEMORY_BYTES_PER_CPU = uint64_t(64) << 20;
// How far ahead of the piece being copied the low-memory path asks for data (per lane): 2 MiB
// read a cold 1.5 GiB file in a 256 MiB cgroup in 3.9-5.0 s, one 256 KiB piece ahead in 4.4-5.9 s.
constexpr size_t LOW_MEMORY_AHEAD_BYTES = size_t(2) << 20;

namespace read_policy_detail {

// Reads a small text file (procfs / cgroupfs); empty when it cannot be read.
inline std::string read_small(const std::string& path) {
  std::string s;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return s;
  char buf[4096];
  for (;;) {
    const ssize_t r = ::read(fd, buf, sizeof buf);
    if (r <= 0 || s.size() > (size_t(64) << 10)) break;
    s.append(buf, static_cast<size_t>(r));
  }
  ::close(fd);
  return s;
}

// The number after "key " at the start of a line of a "key value" file; UINT64_MAX when absent.
inline uint64_t field(const std::string& text, const char* key) {
  const size_t klen = std::strlen(key);
  size_t pos = 0;
  while (pos < text.size()) {
    if (text.compare(pos, klen, key) == 0 && pos + klen < text.size() && (text[pos + klen] == ' ' || text[pos + klen] == ':'))
      return std::strtoull(text.c_str() + pos + klen + 1, nullptr, 10);
    const size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) break;
    pos = nl + 1;
  }
  return UINT64_MAX;
}

inline uint64_t number_file(const std::string& path) {
  const std::string s = read_small(path);
  if (s.empty() || s[0] < '0' || s[0] > '9') return UINT64_MAX;  // missing, or "max" (cgroup v2)
  return std::strtoull(s.c_str(), nullptr, 10);
}

// limit − usage + file cache (reclaimable, as MemAvailable counts it) of one cgroup directory;
// UINT64_MAX when it has no limit.
inline uint64_t cgroup_level_available(const std::string& dir, bool v2) {
  const uint64_t limit = number_file(dir + (v2 ? "/memory.max" : "/memory.limit_in_bytes"));
  if (limit == UINT64_MAX || limit >= (uint64_t(1) << 60)) return UINT64_MAX;  // v1 "no limit" is ~2^63
  const uint64_t usage = number_file(dir + (v2 ? "/memory.current" : "/memory.usage_in_bytes"));
  if (usage == UINT64_MAX) return UINT64_MAX;
  const std::string stat = read_small(dir + "/memory.stat");
  uint64_t cache = 0;
  for (const char* key : {v2 ? "inactive_file" : "total_inactive_file", v2 ? "active_file" : "total_active_file"}) {
    const uint64_t v = field(stat, key);
    if (v != UINT64_MAX) cache += v;
  }
  const uint64_t free = limit > usage ? limit - usage : 0;
  return free + cache;
}

// The tightest of the process's memory cgroup and its ancestors (cgroup v1 "memory" controller or
// the v2 unified hierarchy at its usual mount points).
inline uint64_t cgroup_available() {
  const std::string cg = read_small("/proc/self/cgroup");
  uint64_t best = UINT64_MAX;
  size_t pos = 0;
  while (pos < cg.size()) {
    size_t nl = cg.find('\n', pos);
    if (nl == std::string::npos) nl = cg.size();
    const std::string line = cg.substr(pos, nl - pos);
    pos = nl + 1;
    const size_t a = line.find(':'), b = a == std::string::npos ? a : line.find(':', a + 1);
    if (b == std::string::npos) continue;
    const std::string controllers = line.substr(a + 1, b - a - 1);
    std::string path = line.substr(b + 1);
    const bool v2 = controllers.empty();
    bool v1mem = false;
    for (size_t s = 0; s <= controllers.size();) {  // "memory" among comma-separated controllers
      size_t e = controllers.find(',', s);
      if (e == std::string::npos) e = controllers.size();
      if (controllers.compare(s, e - s, "memory") == 0) v1mem = true;
      s = e + 1;
    }
    if (!v2 && !v1mem) continue;
    if (path.find("..") != std::string::npos) continue;
    const char* roots[] = {v2 ? "/sys/fs/cgroup" : "/sys/fs/cgroup/memory", v2 ? "/sys/fs/cgroup/unified" : nullptr};
    for (const char* root : roots) {
      if (!root) continue;
      for (std::string p = path;;) {  // this cgroup, then each ancestor
        best = std::min(best, cgroup_level_available(root + (p == "/" ? std::string() : p), v2));
        if (p.empty() || p == "/") break;
        const size_t slash = p.rfind('/');
        p = slash == 0 || slash == std::string::npos ? "/" : p.substr(0, slash);
      }
    }
  }
  return best;
}

inline uint64_t meminfo_available() {
  const uint64_t kb = field(read_small("/proc/meminfo"), "MemAvailable");
  return kb == UINT64_MAX ? UINT64_MAX : kb * 1024;
}

inline int64_t now_ns() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

}  // namespace read_policy_detail

// Bytes of memory available to this process (UINT64_MAX when nothing says), sampled at most every
// 100 ms per thread: a few small procfs/cgroupfs reads, negligible beside a read call.
inline uint64_t memory_available_bytes() {
  using namespace read_policy_detail;
  thread_local int64_t sampled_ns = INT64_MIN;
  thread_local uint64_t value = UINT64_MAX;
  const int64_t now = now_ns();
  if (sampled_ns == INT64_MIN || now - sampled_ns > 100000000) {
    value = std::min(meminfo_available(), cgroup_available());
    sampled_ns = now;
  }
  return value;
}

// Whether the low-memory read path is taken now. MODELSEAL_MEMORY_POLICY=low or =normal forces it
// either way (tests, benchmarks); anything else (or unset) decides from memory_available_bytes().
inline bool low_memory_reads() {
  const char* env = std::getenv("MODELSEAL_MEMORY_POLICY");
  if (env && std::strcmp(env, "low") == 0) return true;
  if (env && std::strcmp(env, "normal") == 0) return false;
  static const uint64_t threshold = [] {
    const long cpus = ::sysconf(_SC_NPROCESSORS_ONLN);
    return std::max<uint64_t>(LOW_MEMORY_AVAILABLE_BYTES, LOW_MEMORY_BYTES_PER_CPU * static_cast<uint64_t>(cpus > 0 ? cpus : 1));
  }();
  return memory_available_bytes() < threshold;
}

// Low-memory path, once per opened range: no kernel readahead on this descriptor (the pieces ask
// for their successor themselves, below).
inline void low_memory_begin(int fd) {
#ifdef POSIX_FADV_RANDOM
  ::posix_fadvise(fd, 0, 0, POSIX_FADV_RANDOM);
#else
  (void)fd;
#endif
}

// Low-memory path: reads a range piece by piece into dst, asking for the next LOW_MEMORY_AHEAD_BYTES
// (POSIX_FADV_WILLNEED) as soon as the current piece is copied. Pieces of a range that was not cached
// when its first piece was read are dropped from the cache once copied (drop-behind); a range that
// was cached (another reader's, e.g. a model being loaded) stays. A non-blocking read (RWF_NOWAIT)
// that returns the whole first piece says it was cached; later pieces cannot be probed that way,
// since our own WILLNEED has brought them in.
class LowMemoryReader {
 public:
  // [offset, offset + n) into dst; `first`: the range's first piece; `rest`: bytes of the range after it.
  void read(const Fd& fd, uint8_t* dst, size_t n, uint64_t offset, uint64_t rest, bool first) {
    const size_t next = static_cast<size_t>(std::min<uint64_t>(rest, std::max(LOW_MEMORY_AHEAD_BYTES, n)));
    bool done = false;
    if (first) {
      cached_ = false;
#if defined(RWF_NOWAIT)
      struct iovec v{dst, n};
      const ssize_t r = ::preadv2(fd.get(), &v, 1, static_cast<off_t>(offset), RWF_NOWAIT);
      cached_ = done = r >= 0 && static_cast<size_t>(r) == n;
#endif
    }
    if (!done) fd.pread_full(dst, n, offset);
#if defined(POSIX_FADV_DONTNEED) && defined(POSIX_FADV_WILLNEED)
    if (!cached_) ::posix_fadvise(fd.get(), static_cast<off_t>(offset), static_cast<off_t>(n), POSIX_FADV_DONTNEED);
    if (next) ::posix_fadvise(fd.get(), static_cast<off_t>(offset + n), static_cast<off_t>(next), POSIX_FADV_WILLNEED);
#else
    (void)next;
#endif
  }

 private:
  bool cached_ = false;
};

}  // namespace modelseal
