#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

uint64_t bench_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

size_t bench_rss_bytes(void) {
  unsigned long size = 0, resident = 0;
  FILE *f = fopen("/proc/self/statm", "r");
  if (!f) return 0;
  if (fscanf(f, "%lu %lu", &size, &resident) != 2) resident = 0;
  fclose(f);
  return (size_t)resident * (size_t)sysconf(_SC_PAGESIZE);
}

void bench_id(char *buf, const char *prefix, uint64_t i) {
  char digits[21];
  size_t n = 0, plen = strlen(prefix);
  do {
    digits[n++] = (char)('0' + i % 10);
    i /= 10;
  } while (i);
  memcpy(buf, prefix, plen);
  for (size_t k = 0; k < n; k++) buf[plen + k] = digits[n - 1 - k];
  buf[plen + n] = '\0';
}

uint64_t bench_warm(uint64_t n) { return n / 10 ? n / 10 : 1; }

void bench_line_direct(const char *workload, uint64_t ns, uint64_t ops, int rep) {
  printf("%s impl=direct ns_per_op=%.3f ops=%llu rep=%d\n", workload,
         ops ? (double)ns / (double)ops : 0.0, (unsigned long long)ops, rep);
  fflush(stdout);
}

int bench_fail(const char *workload, const char *what, long long got, long long want) {
  fprintf(stderr, "%s: %s: got %lld, want %lld\n", workload, what, got, want);
  return -1;
}

bench_lat_buf bench_lat;

uint32_t bench_work(uint32_t iters, uint32_t x) {
  for (uint32_t i = 0; i < iters; i++) x = x * 1664525u + 1013904223u;
  return x;
}
