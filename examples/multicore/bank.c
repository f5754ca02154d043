/* multicore: account and client methods. They look like single-threaded
 * code because they are: each actor runs on one shard's thread, one message
 * at a time. */
#include <stdio.h>
#include <string.h>

#include "bank.bs.h"

/* ---- Account ----------------------------------------------------------------- */

int Account_init(Account *self, bs_context *ctx) {
  self->ctx = ctx;
  return 0;
}

void Account_deinit(Account *self) { (void)self; }

int Account_deposit(Account *self, int64_t amount, uint64_t nonce) {
  /* The work: a few hundred rounds of mixing over the account's state,
   * standing for the checks a real deposit would run. */
  uint64_t h = self->risk ^ nonce;
  for (int i = 0; i < 300; i++) h = (h ^ (h >> 29)) * 0xbf58476d1ce4e5b9ull + (uint64_t)i;
  self->risk = h;
  self->balance += amount;
  self->deposits++;
  return 0;
}

int64_t Account_balance(Account *self) { return self->balance; }

/* ---- Client ------------------------------------------------------------------ */

int Client_init(Client *self, bs_context *ctx) {
  self->ctx = ctx;
  const char *id = bs_context_id(ctx);
  self->rng = 0x9e3779b97f4a7c15ull;
  for (const char *p = id; *p; p++) self->rng = (self->rng ^ (uint8_t)*p) * 0x100000001b3ull;
  return 0;
}

void Client_deinit(Client *self) { (void)self; }

static uint64_t next_random(Client *self) {
  uint64_t z = (self->rng += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

int Client_start(Client *self, uint32_t deposits, uint32_t accounts) {
  self->left = deposits;
  self->accounts = accounts ? accounts : 1;
  return Client_more(self);
}

/* One burst, then a message to itself for the next one: the client never
 * holds its shard for long, and mailboxes stay short. */
int Client_more(Client *self) {
  bs_engine *e = bs_context_engine(self->ctx);
  uint32_t n = self->left < 500 ? self->left : 500;
  for (uint32_t i = 0; i < n; i++) {
    char id[32];
    uint64_t r = next_random(self);
    snprintf(id, sizeof id, "acct-%u", (unsigned)(r % self->accounts));
    AccountProxy acct;
    int rc = AccountProxy_get(e, id, &acct);
    if (rc == 0) rc = AccountProxy_deposit(acct, 1, r);
    if (rc < 0) return rc;
    self->sent++;
  }
  self->left -= n;
  if (self->left == 0) return 0;
  ClientProxy me;
  int rc = ClientProxy_self(self->ctx, &me);
  return rc < 0 ? rc : ClientProxy_more(me);
}

uint64_t Client_sent(Client *self) { return self->sent; }
