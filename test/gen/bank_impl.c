/* The bank of docs/testing.md (fixtures/bank.h), for test_gen_testkit.c. */
#include "bank.bs.h"

int Account_init(Account *self, bs_context *ctx) {
  self->ctx = ctx;
  return 0;
}

void Account_deinit(Account *self) { (void)self; }

int Account_deposit(Account *self, int64_t amount) {
  self->balance += amount;
  return 0;
}

int Account_withdraw(Account *self, int64_t amount) {
  if (self->balance < amount) {
    self->overdrafts++;
    return BS_EMETHOD;
  }
  self->balance -= amount;
  return 0;
}

int64_t Account_balance(Account *self) { return self->balance; }

/* The timer callback runs outside actor turns: it sends the teller a
 * message, and the tick runs on the teller's turn. */
static void on_timer(bs_timer *t) {
  Teller *self = t->data;
  TellerProxy me = {bs_context_self(self->ctx)};
  TellerProxy_tick(me);
}

int Teller_init(Teller *self, bs_context *ctx) {
  self->ctx = ctx;
  int rc = bs_timer_init(bs_context_engine(ctx), &self->timer);
  self->timer.data = self;
  return rc;
}

void Teller_deinit(Teller *self) { bs_timer_stop(&self->timer); }

int Teller_move(Teller *self, const char *account, int64_t amount) {
  AccountProxy acct;
  int rc = bs_get_actor(self->ctx, Account, account, &acct);
  if (rc < 0) return rc;
  return amount >= 0 ? AccountProxy_deposit(acct, amount)
                     : AccountProxy_withdraw(acct, -amount);
}

int Teller_tickEvery(Teller *self, uint32_t ms) {
  return bs_timer_start(&self->timer, on_timer, ms, ms);
}

void Teller_tick(Teller *self) {
  if (self->ticks < 8)
    self->ticked_at[self->ticks] = bs_engine_now(bs_context_engine(self->ctx));
  self->ticks++;
}

uint64_t Teller_tickedAt(const Teller *self, uint32_t n) {
  return n >= 1 && n <= self->ticks && n <= 8 ? self->ticked_at[n - 1] : 0;
}
