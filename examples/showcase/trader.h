/* A trader: follows the quotes of a few symbols, now and then orders
 * (with or against the trend), and books the fills with its desk. */
#ifndef TRADER_H
#define TRADER_H

#include <backstage.h>

#include "market.h"

// @generate-proxy
typedef struct Trader {
  bs_context *ctx;
  uint32_t index;
  char desk[16];
  uint32_t rng;
  uint32_t quotes;
  uint32_t orders_open;
  int32_t position[MARKET_SYMBOLS];
  double average[MARKET_SYMBOLS]; /* moving average of the mid price */
} Trader;

int Trader_init(Trader *self, bs_context *ctx);
void Trader_deinit(Trader *self);

int Trader_join(Trader *self, uint32_t index, const char *desk);
/* Subscribed to the quote streams of the trader's symbols. */
int Trader_onQuote(Trader *self, const Quote *q);

#endif
