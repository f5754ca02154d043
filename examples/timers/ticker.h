/* An actor that ticks on a libuv timer running on the engine's own loop.
 *
 * The header does not include <uv.h>: it only names the timer type, so
 * files that use the actor do not need libuv's headers. */
#ifndef TICKER_H
#define TICKER_H

#include <backstage.h>

struct uv_timer_s; /* uv_timer_t */

// @generate-proxy
typedef struct Ticker {
  bs_context *ctx;
  struct uv_timer_s *timer; /* while running; left out of the state encoder */
  uint32_t interval_ms;
  uint32_t limit;           /* stop after this many ticks */
  uint32_t ticks;
  uint64_t started_ms;      /* loop time at start */
  bool late;                /* a tick came before its time (never expected) */
} Ticker;

int Ticker_init(Ticker *self, bs_context *ctx);
void Ticker_deinit(Ticker *self);

/* Starts ticking every interval_ms, `count` times. */
int Ticker_start(Ticker *self, uint32_t interval_ms, uint32_t count);
/* Sent by the timer callback: the work happens on the actor's turn. */
int Ticker_tick(Ticker *self);
uint32_t Ticker_ticks(const Ticker *self);

#endif
