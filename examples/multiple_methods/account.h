/* One actor, several methods of different shapes: strings, integers, a
 * double, a method that can fail, and two requests (a number, a struct). */
#ifndef ACCOUNT_H
#define ACCOUNT_H

#include <backstage.h>

/* A request's result with no pointers inside: awaiting it needs no arena. */
typedef struct Statement {
  char owner[32];
  int64_t balance_cents;
  uint32_t transactions;
  uint32_t rejected;
} Statement;

// @generate-proxy
typedef struct Account {
  bs_context *ctx;
  char owner[32];
  int64_t balance_cents;
  uint32_t transactions;
  uint32_t rejected;
} Account;

int Account_init(Account *self, bs_context *ctx);
void Account_deinit(Account *self);

/* void: fire-and-forget. */
void Account_rename(Account *self, const char *owner);
/* Several parameters. */
int Account_deposit(Account *self, int64_t cents, const char *memo);
/* An int method's negative return is an error the engine counts
 * (bs_engine_stats.method_errors); the caller is not told. */
int Account_withdraw(Account *self, int64_t cents);
void Account_addInterest(Account *self, double percent);

/* Requests. */
int64_t Account_balance(const Account *self);
Statement Account_statement(const Account *self);

#endif
