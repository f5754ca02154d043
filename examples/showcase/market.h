/* The showcase's market: the values that travel between its actors and on
 * its streams. Every struct here is a message or a stream element. */
#ifndef MARKET_H
#define MARKET_H

#include <backstage.h>

#define MARKET_SYMBOLS 40
#define MARKET_DESKS 20

/* Element of the streams "quotes.<SYMBOL>", one per symbol. Prices are in
 * cents. */
typedef struct Quote {
  uint16_t symbol; /* index, 0 .. MARKET_SYMBOLS-1 */
  uint32_t seq;
  int64_t bid;
  int64_t ask;
} Quote;

/* Element of the stream "trades". */
typedef struct Trade {
  uint16_t symbol;
  int32_t qty;     /* > 0 bought by the trader, < 0 sold */
  int64_t price;
  uint32_t trader;
} Trade;

/* A trader's order to a symbol, answered with a Fill. */
typedef struct Order {
  uint32_t trader;
  int32_t qty;
} Order;

typedef struct Fill {
  int32_t qty;
  int64_t price;
} Fill;

/* End-of-run reports, awaited by main. */
typedef struct SymbolReport {
  uint32_t ticks;
  uint32_t fills;
  int64_t inventory; /* what the market maker holds: minus what it sold */
  int64_t open;
  int64_t last;
} SymbolReport;

typedef struct DeskReport {
  uint32_t fills;
  int64_t position; /* net lots bought by the desk's traders */
} DeskReport;

typedef struct TapeReport {
  uint64_t trades;
  uint64_t volume;
  uint32_t alerts;
  char last_alert[64];
} TapeReport;

/* Helpers, not messages. */
const char *market_symbol_name(uint32_t index);
/* Deterministic pseudo-random numbers (xorshift32); *state must not be 0. */
static inline uint32_t market_rand(uint32_t *state) {
  uint32_t x = *state;
  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  return *state = x;
}

#endif
