#include "cashier.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "catalog.bs.h"

static void print_cents(int64_t cents) {
  printf("%" PRId64 ".%02" PRId64, cents / 100, cents % 100);
}

int Cashier_init(Cashier *self, bs_context *ctx) {
  self->ctx = ctx;
  return 0;
}

void Cashier_deinit(Cashier *self) { (void)self; }

static const OrderLine *find_line(const Cashier *self, const char *item) {
  for (size_t i = 0; i < self->line_count; i++)
    if (strcmp(self->lines[i].item, item) == 0) return &self->lines[i];
  return NULL;
}

/* A continuation: runs later, on this cashier's own turn, once per reply.
 * `ud` is the cashier: safe to use, since a stopped actor's continuations
 * never run. */
static void on_quote(void *ud, int status, Quote q) {
  Cashier *self = ud;
  const OrderLine *line = status == 0 ? find_line(self, q.item) : NULL;
  if (status < 0)
    printf("[cashier] a price request failed: %s\n", bs_strerror(status));
  else if (!q.found || !line)
    printf("[cashier] %s: not in the catalog, skipped\n", q.item);
  else {
    int64_t cost = (int64_t)line->quantity * q.price_cents;
    self->total_cents += cost;
    printf("[cashier] %" PRIu32 " x %s = ", line->quantity, q.item);
    print_cents(cost);
    printf("\n");
  }

  if (--self->pending == 0) {
    self->last_total_cents = self->total_cents;
    printf("[cashier] order %" PRIu32 " total ", self->order);
    print_cents(self->total_cents);
    printf("\n");
  }
}

int Cashier_checkout(Cashier *self, const OrderLine *lines, size_t count) {
  if (self->pending > 0) return BS_EBUSY;
  if (count == 0 || count > CASHIER_MAX_LINES) return BS_EINVAL;

  CatalogProxy catalog;
  int rc = bs_get_actor(self->ctx, Catalog, "catalog", &catalog);
  if (rc < 0) return rc;

  /* `lines` lives in the message: copy what the continuations will need. */
  memcpy(self->lines, lines, count * sizeof *lines);
  self->line_count = count;
  self->order++;
  self->total_cents = 0;
  printf("[cashier] order %" PRIu32 ": %zu lines, asking the catalog\n",
         self->order, count);

  /* Inside an actor, never _await (it would return BS_EDEADLK): send the
   * requests and let the continuations collect the replies. */
  for (size_t i = 0; i < count; i++) {
    rc = CatalogProxy_price(catalog, lines[i].item, on_quote, self);
    if (rc < 0) return rc; /* the ones already sent still complete */
    self->pending++;
  }
  return 0;
}

int64_t Cashier_lastTotal(const Cashier *self) { return self->last_total_cents; }
