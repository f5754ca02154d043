/* A price list. Its one method is a request: callers get a Quote back. */
#ifndef CATALOG_H
#define CATALOG_H

#include <backstage.h>

typedef struct Quote {
  char item[16];
  uint32_t price_cents;
  bool found;
} Quote;

// @generate-proxy
typedef struct Catalog {
  bs_context *ctx;
  uint32_t quotes; /* requests answered */
} Catalog;

int Catalog_init(Catalog *self, bs_context *ctx);
void Catalog_deinit(Catalog *self);

Quote Catalog_price(Catalog *self, const char *item);

#endif
