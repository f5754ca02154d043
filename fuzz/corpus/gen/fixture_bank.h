// bank.h
#ifndef BANK_H
#define BANK_H

#include <backstage.h>

// @generate-proxy
typedef struct Account { bs_context *ctx; int64_t balance; int overdrafts; } Account;
int     Account_init(Account *self, bs_context *ctx);
void    Account_deinit(Account *self);
int     Account_deposit(Account *self, int64_t amount);
int     Account_withdraw(Account *self, int64_t amount);  /* refuses and counts an overdraft */
int64_t Account_balance(Account *self);

// @generate-proxy
typedef struct Teller {
  bs_context *ctx;
  bs_timer timer;                                     /* tickEvery's */
  uint32_t ticks;
  uint64_t ticked_at[8];                              /* bs_engine_now() at each tick */
} Teller;
int  Teller_init(Teller *self, bs_context *ctx);
void Teller_deinit(Teller *self);
int  Teller_move(Teller *self, const char *account, int64_t amount); /* deposit or withdraw */
int  Teller_tickEvery(Teller *self, uint32_t ms);   /* starts a bs_timer sending tick() */
void Teller_tick(Teller *self);
uint64_t Teller_tickedAt(const Teller *self, uint32_t n); /* when tick n (from 1) ran; 0: not yet */

#endif
