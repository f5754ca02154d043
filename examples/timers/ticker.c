/* <uv.h> needs POSIX declarations, which strict C11 hides. */
#define _POSIX_C_SOURCE 200809L

#include "ticker.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include <uv.h>

#include "ticker.bs.h"

/* The timer handle and what its callback needs. It is allocated apart from
 * the actor's state: closing a libuv handle completes later (in the close
 * callback), possibly after the state is gone. */
typedef struct TimerBox {
  uv_timer_t handle; /* first member: a uv_timer_t * is a TimerBox * */
  TickerProxy ticker;
} TimerBox;

static void on_timer(uv_timer_t *handle) {
  TimerBox *box = handle->data;
  /* Outside any actor turn: send a message rather than touch the state. */
  int rc = TickerProxy_tick(box->ticker);
  if (rc < 0) fprintf(stderr, "tick: %s\n", bs_strerror(rc));
}

static void on_closed(uv_handle_t *handle) { free(handle->data); }

static void stop_timer(Ticker *self) {
  if (!self->timer) return;
  uv_timer_stop(self->timer);
  uv_close((uv_handle_t *)self->timer, on_closed); /* frees the box */
  self->timer = NULL;
}

static uint64_t loop_now(const Ticker *self) {
  return uv_now(bs_engine_loop(bs_context_engine(self->ctx)));
}

int Ticker_init(Ticker *self, bs_context *ctx) {
  self->ctx = ctx;
  return 0;
}

/* Runs on stop and when the engine is freed: never leave a handle open. */
void Ticker_deinit(Ticker *self) { stop_timer(self); }

int Ticker_start(Ticker *self, uint32_t interval_ms, uint32_t count) {
  if (self->timer || interval_ms == 0 || count == 0) return BS_EINVAL;
  TimerBox *box = malloc(sizeof *box);
  if (!box) return BS_ENOMEM;
  /* A proxy to ourselves, for the callback. */
  int rc = TickerProxy_self(self->ctx, &box->ticker);
  if (rc < 0) {
    free(box);
    return rc;
  }
  box->handle.data = box;

  uv_loop_t *loop = bs_engine_loop(bs_context_engine(self->ctx));
  if (uv_timer_init(loop, &box->handle) < 0) {
    free(box);
    return BS_EUV;
  }
  self->timer = &box->handle;
  self->interval_ms = interval_ms;
  self->limit = count;
  self->ticks = 0;
  self->started_ms = uv_now(loop);
  if (uv_timer_start(self->timer, on_timer, interval_ms, interval_ms) < 0) {
    stop_timer(self);
    return BS_EUV;
  }
  printf("[%s] started: %" PRIu32 " ticks, every %" PRIu32 " ms\n",
         bs_context_id(self->ctx), count, interval_ms);
  return 0;
}

int Ticker_tick(Ticker *self) {
  if (!self->timer) return 0; /* a tick queued just before the stop */
  self->ticks++;
  uint64_t elapsed = loop_now(self) - self->started_ms;
  if (elapsed < (uint64_t)self->ticks * self->interval_ms) self->late = true;
  printf("[%s] tick %" PRIu32 "/%" PRIu32 "%s\n", bs_context_id(self->ctx),
         self->ticks, self->limit, self->late ? " (early!)" : "");
  if (self->ticks == self->limit) {
    stop_timer(self); /* nothing keeps the loop alive any more */
    printf("[%s] done\n", bs_context_id(self->ctx));
  }
  return 0;
}

uint32_t Ticker_ticks(const Ticker *self) { return self->ticks; }
