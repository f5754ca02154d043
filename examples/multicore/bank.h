/* multicore: the actors. Accounts take deposits, each doing a little work
 * (a risk score over the account's recent history, about a microsecond);
 * clients send deposits to accounts picked at random, in bursts. */
#ifndef MULTICORE_BANK_H
#define MULTICORE_BANK_H

#include <backstage.h>

// @generate-proxy
typedef struct Account {
  bs_context *ctx;
  int64_t balance;
  uint64_t deposits;
  uint64_t risk;      /* rolling score, the "work" of a deposit */
} Account;

int Account_init(Account *self, bs_context *ctx);
void Account_deinit(Account *self);
int Account_deposit(Account *self, int64_t amount, uint64_t nonce);
int64_t Account_balance(Account *self);

// @generate-proxy
typedef struct Client {
  bs_context *ctx;
  uint64_t rng;       /* its own random sequence, seeded from its id */
  uint32_t left;      /* deposits still to send */
  uint32_t accounts;  /* ids "acct-0" .. "acct-<accounts - 1>" */
  uint64_t sent;
} Client;

int Client_init(Client *self, bs_context *ctx);
void Client_deinit(Client *self);
/* Sends `deposits` deposits of 1 to random accounts, 500 per turn. */
int Client_start(Client *self, uint32_t deposits, uint32_t accounts);
int Client_more(Client *self);
uint64_t Client_sent(Client *self);

#endif
