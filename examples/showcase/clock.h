/* The market clock: ticks every symbol, and starts the next round when all
 * of them have answered. Pacing by replies keeps every mailbox short,
 * however fast or slow the machine is. */
#ifndef CLOCK_H
#define CLOCK_H

#include <backstage.h>

// @generate-proxy
typedef struct Clock {
  bs_context *ctx;
  bool running;
  uint32_t pending; /* replies still to come this round */
  uint64_t rounds;
} Clock;

int Clock_init(Clock *self, bs_context *ctx);
void Clock_deinit(Clock *self);

int Clock_start(Clock *self);
/* Finishes the current round and stops. */
int Clock_halt(Clock *self);
uint64_t Clock_rounds(const Clock *self);

#endif
