/* The cluster benchmark's actor (placed across the nodes). */
#ifndef BENCH_SINK_H
#define BENCH_SINK_H

#include <backstage.h>

// @generate-proxy
typedef struct BSink {
  bs_context *ctx;
  uint64_t n;
  uint64_t bytes;
} BSink;

int BSink_init(BSink *self, bs_context *ctx);
void BSink_deinit(BSink *self);
/* One-way: counts the message and its payload. */
void BSink_put(BSink *self, bs_bytes payload);
/* Messages counted so far. */
uint64_t BSink_count(BSink *self);
/* Round trip. */
uint64_t BSink_echo(BSink *self, uint64_t v);
/* The node it runs on. */
const char *BSink_where(BSink *self);

#endif
