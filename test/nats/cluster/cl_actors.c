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

uint64_t Sink_count(Sink *self) { return self->n; }
int64_t Sink_sum(Sink *self) { return self->sum; }

void Sink_deinit(Sink *self) { (void)self; }
