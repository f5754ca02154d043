/* A cashier that prices an order by asking the catalog, one request per
 * line, and adds the replies up in continuations. */
#ifndef CASHIER_H
#define CASHIER_H

#include <backstage.h>

typedef struct OrderLine {
  char item[16];
  uint32_t quantity;
} OrderLine;

#define CASHIER_MAX_LINES 8

// @generate-proxy
typedef struct Cashier {
  bs_context *ctx;
  uint32_t order;                      /* current order number */
  OrderLine lines[CASHIER_MAX_LINES];  /* its lines */
  size_t line_count;
  uint32_t pending;                    /* replies still to come */
  int64_t total_cents;                 /* of the current order so far */
  int64_t last_total_cents;            /* of the last completed order */
} Cashier;

int Cashier_init(Cashier *self, bs_context *ctx);
void Cashier_deinit(Cashier *self);

/* Starts pricing an order; BS_EBUSY while the previous one is pending. */
int Cashier_checkout(Cashier *self, const OrderLine *lines, size_t count);
int64_t Cashier_lastTotal(const Cashier *self);

#endif
