#define _POSIX_C_SOURCE 200809L
#include "cl_actors.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cl_actors.bs.h"

static int log_fd = -1;
static char node_name[64] = "?";

void cl_log_open(const char *path, const char *node) {
  if (log_fd >= 0) close(log_fd);
  log_fd = path ? open(path, O_WRONLY | O_CREAT | O_APPEND, 0644) : -1;
  snprintf(node_name, sizeof node_name, "%s", node ? node : "?");
}

void cl_log_close(void) {
  if (log_fd >= 0) close(log_fd);
  log_fd = -1;
}

const char *cl_node_name(void) { return node_name; }

static unsigned long long now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (unsigned long long)ts.tv_sec * 1000000000ull + (unsigned long long)ts.tv_nsec;
}

/* One write per line: appends of a few dozen bytes do not interleave. */
static void event(const char *what, const char *id, const char *from, unsigned long long seq) {
  if (log_fd < 0) return;
  char line[256];
  int n = snprintf(line, sizeof line, "%llu %s %s %ld %s %s %llu\n", now_ns(), what, node_name,
                   (long)getpid(), id, from ? from : "-", seq);
  if (n > 0 && (size_t)n < sizeof line && write(log_fd, line, (size_t)n) < 0) {
    /* a test reads the log; nothing to do here */
  }
}

int Counter_init(Counter *self, bs_context *ctx) {
  self->ctx = ctx;
  event("ACT", bs_context_id(ctx), NULL, 0);
  return 0;
}

void Counter_deinit(Counter *self) {
  free(self->blob);
  bs_blob_release(self->made);
  event("DEACT", bs_context_id(self->ctx), NULL, 0);
}

uint64_t Counter_measure(Counter *self, bs_bytes blob) {
  (void)self;
  return blob.len;
}

bs_bytes Counter_blob(Counter *self, uint32_t n) {
  free(self->blob);
  self->blob = calloc(1, n ? n : 1);
  bs_bytes b = {self->blob, self->blob ? n : 0};
  return b;
}

/* ---- Blobs ------------------------------------------------------------------------ */

/* xorshift64 seeded by the size: different sizes, different bytes. */
void cl_fill(unsigned char *p, size_t n) {
  uint64_t x = (uint64_t)n * 0x9e3779b97f4a7c15ull + 1;
  for (size_t i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    p[i] = (unsigned char)(x >> 24);
  }
}

bool cl_filled(const bs_blob *b) {
  size_t n = bs_blob_size(b);
  unsigned char *want = malloc(n ? n : 1);
  if (!b || !want) {
    free(want);
    return false;
  }
  cl_fill(want, n);
  bool same = memcmp(want, bs_blob_data(b), n) == 0;
  free(want);
  return same;
}

uint64_t cl_fnv1a(const bs_blob *b) {
  const unsigned char *p = bs_blob_data(b);
  uint64_t h = 0xcbf29ce484222325ull;
  for (size_t i = 0; i < bs_blob_size(b); i++) h = (h ^ p[i]) * 0x100000001b3ull;
  return h;
}

void cl_digest(const bs_blob *b, char *out, size_t cap) {
  if (!b) snprintf(out, cap, "null");
  else snprintf(out, cap, "%zu:%016llx", bs_blob_size(b), (unsigned long long)cl_fnv1a(b));
}

void Counter_take(Counter *self, Parcel p) {
  if (p.data && bs_blob_size(p.data) == p.size && cl_fnv1a(p.data) == p.fnv) self->blobs_ok++;
  else self->blobs_bad++;
}

void Counter_eat(Counter *self, const bs_blob *b) {
  if (!b) return; /* a test's warm-up */
  if (cl_filled(b)) self->blobs_ok++;
  else self->blobs_bad++;
}

const char *Counter_tally(Counter *self) {
  snprintf(self->digest, sizeof self->digest, "ok %llu bad %llu",
           (unsigned long long)self->blobs_ok, (unsigned long long)self->blobs_bad);
  return self->digest;
}

const char *Counter_digest(Counter *self, const bs_blob *b) {
  cl_digest(b, self->digest, sizeof self->digest);
  return self->digest;
}

const char *Counter_digests(Counter *self, const bs_blob *const *items, size_t count) {
  size_t used = 0;
  self->digest[0] = '\0';
  for (size_t i = 0; i < count; i++) {
    char one[40];
    cl_digest(items[i], one, sizeof one);
    int n = snprintf(self->digest + used, sizeof self->digest - used, "%s%s", i ? " " : "", one);
    if (n < 0 || (size_t)n >= sizeof self->digest - used) break; /* truncated: a mismatch */
    used += (size_t)n;
  }
  return self->digest;
}

const bs_blob *Counter_make(Counter *self, uint32_t n) {
  void *p;
  bs_blob_release(self->made);
  self->made = bs_blob_new(n, &p);
  if (self->made) cl_fill(p, n);
  return self->made;
}

void Counter_add(Counter *self, int64_t v) {
  self->total += v;
  self->msgs++;
}

int64_t Counter_total(Counter *self) { return self->total; }

const char *Counter_where(Counter *self) {
  (void)self;
  return node_name;
}

void Counter_seq(Counter *self, const char *from, uint64_t n) {
  self->msgs++;
  event("MSG", bs_context_id(self->ctx), from, n);
}

int64_t Counter_slow(Counter *self, uint32_t ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
  return self->total;
}

int Sink_init(Sink *self, bs_context *ctx) {
  self->ctx = ctx;
  return 0;
}

void Sink_tick(Sink *self, int64_t v) {
  self->sum += v;
  self->n++;
  event("ELEM", bs_context_id(self->ctx), NULL, (unsigned long long)v);
}

void Sink_blob(Sink *self, const bs_blob *b) {
  self->n++;
  const char *what = !b ? "NOBLOB" : cl_filled(b) ? "BLOB" : "BADBLOB";
  event(what, bs_context_id(self->ctx), NULL, bs_blob_size(b));
}

uint64_t Sink_count(Sink *self) { return self->n; }
int64_t Sink_sum(Sink *self) { return self->sum; }

void Sink_deinit(Sink *self) { (void)self; }
