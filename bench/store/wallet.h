/* The persistent actor of the storage benchmark (bench/store.c). */
#ifndef BENCH_WALLET_H
#define BENCH_WALLET_H

#include <backstage.h>

// @generate-proxy persistent
typedef struct Wallet {
  bs_context *ctx;
  int64_t balance;
  uint64_t ops;
  char owner[16];
} Wallet;

int     Wallet_init(Wallet *self, bs_context *ctx);
void    Wallet_deinit(Wallet *self);
int64_t Wallet_deposit(Wallet *self, int64_t amount); /* persists; the balance */
int64_t Wallet_balance(const Wallet *self);

/* Keeps the shard busy for the dispatch-gap measurement: spin(n) sends
 * itself spin(n - 1). Not persistent. */
// @generate-proxy
typedef struct Spinner {
  bs_context *ctx;
  uint64_t turns;
} Spinner;

int  Spinner_init(Spinner *self, bs_context *ctx);
void Spinner_deinit(Spinner *self);
void Spinner_spin(Spinner *self, uint64_t left);
extern bool bench_spinning; /* spin goes on while true */

#endif
