/* count: one counter receiving one-way increments, asked for its total. */
#ifndef BENCH_COUNTER_H
#define BENCH_COUNTER_H

#include <backstage.h>

// @generate-proxy
typedef struct Counter {
  bs_context *ctx;
  int64_t total;
} Counter;

int Counter_init(Counter *self, bs_context *ctx);
void Counter_deinit(Counter *self);

int Counter_add(Counter *self, int32_t x);
int64_t Counter_total(const Counter *self);

#endif
