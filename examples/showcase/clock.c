#include "clock.h"

#include "market.h"
#include "symbol.bs.h"

int Clock_init(Clock *self, bs_context *ctx) {
  self->ctx = ctx;
  return 0;
}

void Clock_deinit(Clock *self) { (void)self; }

static void on_tick(void *ud, int status, uint32_t seq);

static int round_start(Clock *self) {
  self->rounds++;
  for (uint32_t i = 0; i < MARKET_SYMBOLS; i++) {
    SymbolProxy sym;
    int rc = bs_get_actor(self->ctx, Symbol, market_symbol_name(i), &sym);
    if (rc == 0) rc = SymbolProxy_tick(sym, on_tick, self);
    if (rc < 0) return rc;
    self->pending++;
  }
  return 0;
}

/* A continuation, on the clock's turn: the last reply starts a new round. */
static void on_tick(void *ud, int status, uint32_t seq) {
  Clock *self = ud;
  (void)status;
  (void)seq;
  if (--self->pending == 0 && self->running && round_start(self) < 0)
    self->running = false;
}

int Clock_start(Clock *self) {
  if (self->running) return 0;
  self->running = true;
  return self->pending == 0 ? round_start(self) : 0;
}

int Clock_halt(Clock *self) {
  self->running = false;
  return 0;
}

uint64_t Clock_rounds(const Clock *self) { return self->rounds; }
