#include "catalog.h"

#include <stdio.h>
#include <string.h>

static const struct {
  const char *item;
  uint32_t cents;
} prices[] = {{"apple", 50}, {"bread", 225}, {"cheese", 680}, {"milk", 119}};

int Catalog_init(Catalog *self, bs_context *ctx) {
  self->ctx = ctx;
  return 0;
}

void Catalog_deinit(Catalog *self) { (void)self; }

Quote Catalog_price(Catalog *self, const char *item) {
  Quote q;
  memset(&q, 0, sizeof q);
  snprintf(q.item, sizeof q.item, "%s", item);
  for (size_t i = 0; i < sizeof prices / sizeof prices[0]; i++) {
    if (strcmp(prices[i].item, item) == 0) {
      q.price_cents = prices[i].cents;
      q.found = true;
    }
  }
  self->quotes++;
  if (q.found)
    printf("[catalog] %s: %u.%02u\n", item, (unsigned)q.price_cents / 100,
           (unsigned)q.price_cents % 100);
  else
    printf("[catalog] %s: unknown\n", item);
  return q; /* the return value is the reply */
}
