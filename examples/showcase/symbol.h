/* A listed symbol and its market maker: moves its price on every clock
 * tick, publishes a Quote on its own stream, fills orders and publishes
 * each Trade. */
#ifndef SYMBOL_H
#define SYMBOL_H

#include <backstage.h>

#include "market.h"

// @generate-proxy
typedef struct Symbol {
  bs_context *ctx;
  uint16_t index;
  char quotes_id[24]; /* "quotes.ACME" */
  uint32_t rng;
  int64_t open;
  int64_t price;      /* mid, in cents */
  uint32_t seq;
  uint32_t fills;
  int64_t inventory;
} Symbol;

int Symbol_init(Symbol *self, bs_context *ctx);
void Symbol_deinit(Symbol *self);

int Symbol_list(Symbol *self, uint16_t index, int64_t open_cents);
/* A request from the clock: the reply paces the next round. */
uint32_t Symbol_tick(Symbol *self);
Fill Symbol_order(Symbol *self, Order order);
SymbolReport Symbol_report(const Symbol *self);

#endif
