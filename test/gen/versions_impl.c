/* The two versions of the Store actor (versions/v1, versions/v2). Each
 * keeps the last Item it received, deep enough for the tests to check. */
#include "versions_impl.h"

#include <string.h>

Item1 store1_last;
Item2 store2_last;
char store_name[64];

int Store1_init(Store1 *self, bs_context *ctx) {
  (void)ctx;
  self->count = 0;
  return 0;
}

void Store1_deinit(Store1 *self) { (void)self; }

int Store1_put(Store1 *self, Item1 item) {
  self->count++;
  store1_last = item;
  strncpy(store_name, item.name ? item.name : "", sizeof store_name - 1);
  return 0;
}

int Store2_init(Store2 *self, bs_context *ctx) {
  (void)ctx;
  self->count = 0;
  return 0;
}

void Store2_deinit(Store2 *self) { (void)self; }

int Store2_put(Store2 *self, Item2 item) {
  self->count++;
  store2_last = item;
  store2_last.tags = NULL; /* points into the message: not kept */
  strncpy(store_name, item.name ? item.name : "", sizeof store_name - 1);
  return 0;
}

int Store2_audit(Store2 *self) { return (int)self->count; }

/* ---- Purse, two versions of one persistent type ---------------------------- */

bs_actor_type purse_v1_type;
bs_actor_type purse_v2_type;

void purse_types_init(void) {
  purse_v1_type = Purse1_actor_type;
  purse_v1_type.name = "Purse";
  purse_v2_type = Purse2_actor_type;
  purse_v2_type.name = "Purse";
}

#define PURSE_IMPL(P)                                                          \
  int P##_init(P *self, bs_context *ctx) {                                     \
    self->ctx = ctx;                                                           \
    return 0;                                                                  \
  }                                                                            \
  void P##_deinit(P *self) { (void)self; }                                     \
  int P##_fill(P *self, int64_t balance, const char *owner) {                  \
    self->balance = balance;                                                   \
    self->deposits++;                                                          \
    strncpy(self->owner, owner, sizeof self->owner - 1);                       \
    self->limits.daily = balance * 2;                                          \
    self->marks[0] = 1;                                                        \
    self->marks[1] = 2;                                                        \
    return bs_context_persist(self->ctx);                                      \
  }                                                                            \
  int64_t P##_balance(const P *self) { return self->balance; }

PURSE_IMPL(Purse1)
PURSE_IMPL(Purse2)
