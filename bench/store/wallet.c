#include <string.h>

#include "wallet.bs.h"

int Wallet_init(Wallet *self, bs_context *ctx) {
  self->ctx = ctx;
  return 0;
}

void Wallet_deinit(Wallet *self) { (void)self; }

int64_t Wallet_deposit(Wallet *self, int64_t amount) {
  self->balance += amount;
  self->ops++;
  memcpy(self->owner, "bench-owner", 12);
  bs_context_persist(self->ctx);
  return self->balance;
}

int64_t Wallet_balance(const Wallet *self) { return self->balance; }

int Spinner_init(Spinner *self, bs_context *ctx) {
  self->ctx = ctx;
  return 0;
}

void Spinner_deinit(Spinner *self) { (void)self; }

bool bench_spinning;

void Spinner_spin(Spinner *self, uint64_t left) {
  self->turns++;
  if (left == 0 || !bench_spinning) return;
  SpinnerProxy me;
  SpinnerProxy_self(self->ctx, &me);
  SpinnerProxy_spin(me, left - 1);
}
