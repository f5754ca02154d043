/* idle: an actor that is activated once and then waits. */
#ifndef BENCH_IDLE_H
#define BENCH_IDLE_H

#include <backstage.h>

// @generate-proxy
typedef struct Idle {
  bs_context *ctx;
  uint32_t touched;
} Idle;

int Idle_init(Idle *self, bs_context *ctx);
void Idle_deinit(Idle *self);

int Idle_touch(Idle *self);

#endif
