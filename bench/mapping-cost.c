// What mapping page-cached files costs, without hashing: threads take the 16 files of a model of
// 16 x 128 MiB in turn and touch one byte per 4 KiB page, in mmap windows as native/sha256 does
// (mode 0: faulted, 1: MAP_POPULATE, 2: MADV_POPULATE_READ, 4: MADV_SEQUENTIAL) or copying with
// 512 KiB preads (mode 3). Prints wall, user and system seconds.
//   cc -O2 -pthread bench/mapping-cost.c -o /tmp/mapping-cost
//   /tmp/mapping-cost MODE WINDOW_MIB THREADS [DIR]     (DIR: default /work/data/m2g-16f)
// 2-vCPU EPYC Milan, Linux 6.18, ext4, 2 GiB touched (s3-16f notes): 4 KiB folios (the data as
// generated) mode 0 sys 0.17-0.27 s, and no mode or window (16 or 128 MiB) below that; the same bytes
// copied with 8 MiB writes (bench/folio-copy.sh, large folios) mode 0 sys 0.02 s. Copying (mode 3,
// what read()-based tools such as openssl pay) 0.26 s on 4 KiB folios, 0.17 s on large ones.
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>
#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22
#endif
static int mode;
static size_t win;
static volatile unsigned long sink;
static int next_file = 0, nfiles = 0;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static char names[256][512];

static void* run(void* unused) {
  (void)unused;
  char* buf = aligned_alloc(4096, 1 << 20);
  for (;;) {
    pthread_mutex_lock(&mu);
    int f = next_file++;
    pthread_mutex_unlock(&mu);
    if (f >= nfiles) break;
    int fd = open(names[f], O_RDONLY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) continue;
    size_t len = (size_t)st.st_size;
    unsigned long s = 0;
    for (size_t off = 0; off < len; off += win) {
      size_t n = len - off < win ? len - off : win;
      if (mode == 3) {
        for (size_t o = 0; o < n; o += (1 << 19)) {
          if (pread(fd, buf, 1 << 19, (off_t)(off + o)) > 0) s += (unsigned char)buf[0];
        }
        continue;
      }
      unsigned char* p = mmap(0, n, PROT_READ, MAP_PRIVATE | (mode == 1 ? MAP_POPULATE : 0), fd, (off_t)off);
      if (p == MAP_FAILED) break;
      if (mode == 2) madvise(p, n, MADV_POPULATE_READ);
      if (mode == 4) madvise(p, n, MADV_SEQUENTIAL);
      for (size_t i = 0; i < n; i += 4096) s += p[i];
      munmap(p, n);
    }
    sink += s;
    close(fd);
  }
  free(buf);
  return 0;
}

static int cmp(const void* a, const void* b) { return strcmp((const char*)a, (const char*)b); }

int main(int argc, char** argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: %s MODE WINDOW_MIB THREADS [DIR]\n", argv[0]);
    return 2;
  }
  mode = atoi(argv[1]);
  win = (size_t)atoi(argv[2]) << 20;
  int threads = atoi(argv[3]);
  const char* dir = argc > 4 ? argv[4] : "/work/data/m2g-16f";
  DIR* d = opendir(dir);
  if (!d) return 2;
  for (struct dirent* e; (e = readdir(d)) && nfiles < 256;)
    if (e->d_name[0] != '.') snprintf(names[nfiles++], sizeof names[0], "%s/%s", dir, e->d_name);
  closedir(d);
  qsort(names, (size_t)nfiles, sizeof names[0], cmp);
  if (threads < 1 || threads > 64 || win == 0) return 2;
  struct timeval t0, t1;
  gettimeofday(&t0, 0);
  pthread_t th[64];
  for (int i = 0; i < threads; i++) pthread_create(&th[i], 0, run, 0);
  for (int i = 0; i < threads; i++) pthread_join(th[i], 0);
  gettimeofday(&t1, 0);
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  printf("mode %d window %zu MiB threads %d files %d wall %.3f user %.3f sys %.3f\n", mode, win >> 20, threads, nfiles,
         (t1.tv_sec - t0.tv_sec) + (t1.tv_usec - t0.tv_usec) / 1e6, ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6,
         ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6);
  return 0;
}
