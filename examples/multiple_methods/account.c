#include "account.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* Cents as "12.34" (non-negative amounts only, as in this example). */
static void print_amount(const char *prefix, int64_t cents, const char *suffix) {
  printf("%s%" PRId64 ".%02" PRId64 "%s", prefix, cents / 100, cents % 100, suffix);
}

int Account_init(Account *self, bs_context *ctx) {
  self->ctx = ctx;
  snprintf(self->owner, sizeof self->owner, "%s", bs_context_id(ctx));
  return 0;
}

void Account_deinit(Account *self) { (void)self; }

void Account_rename(Account *self, const char *owner) {
  printf("[account] owner: %s -> %s\n", self->owner, owner);
  snprintf(self->owner, sizeof self->owner, "%s", owner);
}

int Account_deposit(Account *self, int64_t cents, const char *memo) {
  if (cents <= 0) return BS_EINVAL;
  self->balance_cents += cents;
  self->transactions++;
  print_amount("[account] deposit ", cents, "");
  printf(" (%s)\n", memo);
  return 0;
}

int Account_withdraw(Account *self, int64_t cents) {
  if (cents <= 0 || cents > self->balance_cents) {
    self->rejected++;
    print_amount("[account] withdraw ", cents, ": rejected, insufficient funds\n");
    return BS_EMETHOD;
  }
  self->balance_cents -= cents;
  self->transactions++;
  print_amount("[account] withdraw ", cents, "\n");
  return 0;
}

void Account_addInterest(Account *self, double percent) {
  int64_t interest = (int64_t)((double)self->balance_cents * percent / 100.0 + 0.5);
  self->balance_cents += interest;
  self->transactions++;
  printf("[account] interest %.1f%%: ", percent);
  print_amount("", interest, "\n");
}

int64_t Account_balance(const Account *self) { return self->balance_cents; }

Statement Account_statement(const Account *self) {
  Statement s;
  memset(&s, 0, sizeof s);
  memcpy(s.owner, self->owner, sizeof s.owner);
  s.balance_cents = self->balance_cents;
  s.transactions = self->transactions;
  s.rejected = self->rejected;
  return s;
}
