/* Collects completions: the spawned workers' answers, the ring's end. */
#ifndef BENCH_COLLECTOR_H
#define BENCH_COLLECTOR_H

#include <backstage.h>

// @generate-proxy
typedef struct Collector {
  bs_context *ctx;
  int64_t count; /* done() calls received */
  int64_t sum;   /* of their values */
} Collector;

int Collector_init(Collector *self, bs_context *ctx);
void Collector_deinit(Collector *self);

int Collector_done(Collector *self, int64_t value);
int64_t Collector_count(const Collector *self);

#endif
