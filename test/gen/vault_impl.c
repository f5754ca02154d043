/* The persistent Vault of fixtures/vault.h, for test_gen_persist.c. */
#include "vault.bs.h"

struct VaultCache {
  int64_t seen;
};

static VaultCache cache;

int Vault_init(Vault *self, bs_context *ctx) {
  self->ctx = ctx;
  self->cache = &cache;
  self->label = "vault";
  self->inits++;
  return 0;
}

void Vault_deinit(Vault *self) { self->cache = NULL; }

int64_t Vault_deposit(Vault *self, int64_t amount) {
  self->balance += amount;
  self->history[self->deposits % 3] = (int32_t)amount;
  self->deposits++;
  self->cache->seen = self->balance;
  bs_context_persist(self->ctx);
  return self->balance;
}

int Vault_setOwner(Vault *self, const char *owner) {
  size_t n = strlen(owner);
  if (n >= sizeof self->owner) n = sizeof self->owner - 1;
  memcpy(self->owner, owner, n);
  self->owner[n] = '\0';
  for (size_t i = 0; i < sizeof self->key; i++) self->key[i] = (uint8_t)(n + i);
  self->audited = true;
  self->rate = 1.5;
  self->mode = VAULT_FROZEN;
  self->limits.daily = 500;
  self->limits.per_hour[3] = 7;
  return bs_context_persist(self->ctx);
}

int64_t Vault_balance(const Vault *self) { return self->balance; }
uint32_t Vault_inits(const Vault *self) { return self->inits; }
bool Vault_loaded(const Vault *self) { return bs_context_loaded(self->ctx); }
