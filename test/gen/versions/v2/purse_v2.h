/* Version 2 of the persistent actor of purse_v1.h: `legacy` removed,
 * `frozen` and `limits.monthly` added, `marks` grown. */
#ifndef PURSE_V2_H
#define PURSE_V2_H

#include <backstage.h>

typedef struct PurseLimits2 {
  int64_t daily;
  int64_t monthly;       /* new */
} PurseLimits2;

// @generate-proxy persistent
typedef struct Purse2 {
  bs_context *ctx;
  uint64_t frozen_at;    /* new */
  int64_t balance;
  uint32_t deposits;
  char owner[16];
  PurseLimits2 limits;
  int16_t marks[4];
} Purse2;

int Purse2_init(Purse2 *self, bs_context *ctx);
void Purse2_deinit(Purse2 *self);
int Purse2_fill(Purse2 *self, int64_t balance, const char *owner); /* persists */
int64_t Purse2_balance(const Purse2 *self);

#endif
