/* Two actors that watch the "trades" stream: Surveillance raises alerts on
 * the "alerts" stream when a price moves a whole percent further from its
 * open; Tape counts trades and keeps the latest alert. */
#ifndef WATCHERS_H
#define WATCHERS_H

#include <backstage.h>

#include "market.h"

// @generate-proxy
typedef struct Surveillance {
  bs_context *ctx;
  int64_t open[MARKET_SYMBOLS];    /* first traded price, 0 before */
  int32_t level[MARKET_SYMBOLS];   /* last percent level alerted */
} Surveillance;

int Surveillance_init(Surveillance *self, bs_context *ctx);
void Surveillance_deinit(Surveillance *self);
int Surveillance_onTrade(Surveillance *self, const Trade *t);

// @generate-proxy
typedef struct Tape {
  bs_context *ctx;
  TapeReport report;
} Tape;

int Tape_init(Tape *self, bs_context *ctx);
void Tape_deinit(Tape *self);
int Tape_onTrade(Tape *self, const Trade *t);
int Tape_onAlert(Tape *self, const char *alert); /* a cstr stream */
TapeReport Tape_report(const Tape *self);

#endif
