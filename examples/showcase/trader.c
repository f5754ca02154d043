#include "trader.h"

#include <stdio.h>

#include "desk.bs.h"
#include "symbol.bs.h"

enum { MAX_POSITION = 50, ORDER_PERCENT = 4 };

int Trader_init(Trader *self, bs_context *ctx) {
  self->ctx = ctx;
  return 0;
}

void Trader_deinit(Trader *self) { (void)self; }

int Trader_join(Trader *self, uint32_t index, const char *desk) {
  self->index = index;
  self->rng = 0x2545f491u ^ (index * 2246822519u);
  if (self->rng == 0) self->rng = 1;
  snprintf(self->desk, sizeof self->desk, "%s", desk);
  return 0;
}

/* Continuation of Symbol_order: runs on this trader's turn. */
static void on_fill(void *ud, int status, Fill fill) {
  Trader *self = ud;
  self->orders_open--;
  if (status < 0) return; /* counted by the engine as a dead letter */
  DeskProxy desk;
  if (bs_get_actor(self->ctx, Desk, self->desk, &desk) == 0)
    DeskProxy_book(desk, fill);
}

static int send_order(Trader *self, uint16_t symbol, int32_t qty) {
  SymbolProxy sym;
  int rc = bs_get_actor(self->ctx, Symbol, market_symbol_name(symbol), &sym);
  if (rc < 0) return rc;
  Order order = {self->index, qty};
  rc = SymbolProxy_order(sym, order, on_fill, self);
  if (rc < 0) return rc;
  self->position[symbol] += qty; /* optimistic: fills always come back */
  self->orders_open++;
  return 0;
}

int Trader_onQuote(Trader *self, const Quote *q) {
  if (q->symbol >= MARKET_SYMBOLS) return BS_EINVAL;
  self->quotes++;
  double mid = (double)(q->bid + q->ask) / 2.0;
  double *avg = &self->average[q->symbol];
  if (*avg == 0.0) *avg = mid;
  *avg = 0.9 * *avg + 0.1 * mid;

  /* Now and then, trade: even traders follow the trend (buy above the
   * average), odd ones bet against it. */
  if (market_rand(&self->rng) % 100 >= ORDER_PERCENT) return 0;
  int32_t qty = (int32_t)(market_rand(&self->rng) % 10) + 1;
  bool above = mid > *avg;
  if (above != (self->index % 2 == 0)) qty = -qty;
  int32_t after = self->position[q->symbol] + qty;
  if (after > MAX_POSITION || after < -MAX_POSITION) return 0;
  return send_order(self, q->symbol, qty);
}
