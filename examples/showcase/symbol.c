#include "symbol.h"

#include <stdio.h>

#include "market.bs.h" /* bs_stream_Quote, bs_stream_Trade */

enum { HALF_SPREAD = 1, MIN_PRICE = 100 };

int Symbol_init(Symbol *self, bs_context *ctx) {
  self->ctx = ctx;
  return 0;
}

void Symbol_deinit(Symbol *self) { (void)self; }

int Symbol_list(Symbol *self, uint16_t index, int64_t open_cents) {
  if (index >= MARKET_SYMBOLS || open_cents < MIN_PRICE) return BS_EINVAL;
  self->index = index;
  snprintf(self->quotes_id, sizeof self->quotes_id, "quotes.%s",
           market_symbol_name(index));
  self->rng = 0x9e3779b9u ^ (index * 2654435761u);
  self->open = self->price = open_cents;
  return 0;
}

uint32_t Symbol_tick(Symbol *self) {
  /* A random walk of up to 10 cents a tick. */
  self->price += (int64_t)(market_rand(&self->rng) % 21) - 10;
  if (self->price < MIN_PRICE) self->price = MIN_PRICE;
  self->seq++;

  bs_stream_Quote quotes;
  if (bs_get_stream(self->ctx, Quote, self->quotes_id, &quotes) == 0) {
    Quote q = {self->index, self->seq, self->price - HALF_SPREAD,
               self->price + HALF_SPREAD};
    bs_stream_next(quotes, &q); /* < 0 only when out of memory */
  }
  return self->seq;
}

Fill Symbol_order(Symbol *self, Order order) {
  Fill f = {order.qty, order.qty > 0 ? self->price + HALF_SPREAD
                                     : self->price - HALF_SPREAD};
  self->fills++;
  self->inventory -= order.qty;
  self->price += order.qty; /* order flow moves the price */
  if (self->price < MIN_PRICE) self->price = MIN_PRICE;

  bs_stream_Trade trades;
  if (bs_get_stream(self->ctx, Trade, "trades", &trades) == 0) {
    Trade t = {self->index, order.qty, f.price, order.trader};
    bs_stream_next(trades, &t);
  }
  return f;
}

SymbolReport Symbol_report(const Symbol *self) {
  SymbolReport r = {self->seq, self->fills, self->inventory, self->open, self->price};
  return r;
}
