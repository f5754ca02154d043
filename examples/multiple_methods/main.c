/* multiple_methods: one actor, many methods; the calls run in the order
 * they were made, one at a time. */
#include <inttypes.h>
#include <stdio.h>

#include "account.bs.h"

static int check(int rc, const char *what) {
  if (rc < 0) fprintf(stderr, "%s: %s\n", what, bs_strerror(rc));
  return rc;
}

/* Every proxy call returns 0 once queued, or a negative BS_E* code. */
static int make_calls(AccountProxy acc) {
  int rc = check(AccountProxy_rename(acc, "Ada Lovelace"), "rename");
  if (rc == 0) rc = check(AccountProxy_deposit(acc, 10000, "salary"), "deposit");
  if (rc == 0) rc = check(AccountProxy_deposit(acc, 2550, "refund"), "deposit");
  if (rc == 0) rc = check(AccountProxy_withdraw(acc, 4000), "withdraw");
  if (rc == 0) rc = check(AccountProxy_withdraw(acc, 1000000), "withdraw"); /* fails */
  if (rc == 0) rc = check(AccountProxy_addInterest(acc, 2.5), "addInterest");
  return rc;
}

int main(void) {
  bs_engine *engine = NULL;
  if (check(bs_engine_new(&engine, NULL), "bs_engine_new") < 0) return 1;

  AccountProxy acc;
  int rc = check(bs_get_actor(engine, Account, "acc-42", &acc), "get");
  if (rc == 0) rc = make_calls(acc);

  int64_t balance = 0;
  if (rc == 0) rc = check(AccountProxy_balance_await(acc, &balance), "balance");
  if (rc == 0)
    printf("main: balance %" PRId64 ".%02" PRId64 "\n", balance / 100, balance % 100);

  Statement st;
  if (rc == 0) rc = check(AccountProxy_statement_await(acc, &st), "statement");
  if (rc == 0)
    printf("main: statement for %s: %" PRIu32 " transactions, %" PRIu32 " rejected\n",
           st.owner, st.transactions, st.rejected);

  /* The failed withdrawal was delivered; its error shows in the stats. */
  bs_engine_stats stats;
  bs_engine_stats_get(engine, &stats);
  printf("main: %" PRIu64 " method error(s), %" PRIu64 " dead letters\n",
         stats.method_errors, stats.dead_letters);

  bs_engine_free(engine);
  return rc == 0 ? 0 : 1;
}
