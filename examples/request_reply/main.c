/* request_reply: awaiting a value from main, and continuations between
 * actors. */
#include <inttypes.h>
#include <stdio.h>

#include "cashier.bs.h"
#include "catalog.bs.h"

static int check(int rc, const char *what) {
  if (rc < 0) fprintf(stderr, "%s: %s\n", what, bs_strerror(rc));
  return rc;
}

int main(void) {
  bs_engine *engine = NULL;
  if (check(bs_engine_new(&engine, NULL), "bs_engine_new") < 0) return 1;

  CatalogProxy catalog;
  CashierProxy cashier;
  int rc = check(bs_get_actor(engine, Catalog, "catalog", &catalog), "get catalog");
  if (rc == 0) rc = check(bs_get_actor(engine, Cashier, "cashier", &cashier), "get cashier");

  /* 1. From main: block on the reply. Quote has no pointers: no arena. */
  Quote q;
  if (rc == 0) rc = check(CatalogProxy_price_await(catalog, "milk", &q), "price");
  if (rc == 0) printf("main: awaited milk: %u.%02u\n", (unsigned)q.price_cents / 100,
                      (unsigned)q.price_cents % 100);

  /* 2. Between actors: the cashier asks the catalog, with continuations. */
  const OrderLine order[] = {{"apple", 3}, {"bread", 2}, {"caviar", 1}, {"cheese", 1}};
  if (rc == 0) rc = check(CashierProxy_checkout(cashier, order, 4), "checkout");
  if (rc == 0) bs_engine_run(engine, BS_RUN_UNTIL_DONE); /* all replies in */

  int64_t total = 0;
  if (rc == 0) rc = check(CashierProxy_lastTotal_await(cashier, &total), "lastTotal");
  if (rc == 0)
    printf("main: awaited the last total: %" PRId64 ".%02" PRId64 "\n", total / 100,
           total % 100);

  bs_engine_free(engine);
  return rc == 0 ? 0 : 1;
}
