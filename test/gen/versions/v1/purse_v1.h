/* Version 1 of a persistent actor's state (test_gen_persist.c). The
 * stored form keys fields by name, so v1 and v2 (purse_v2.h) read each
 * other's records; the C names differ only so both live in one binary. */
#ifndef PURSE_V1_H
#define PURSE_V1_H

#include <backstage.h>

typedef struct PurseLimits1 {
  int64_t daily;
} PurseLimits1;

// @generate-proxy persistent
typedef struct Purse1 {
  bs_context *ctx;
  int64_t balance;
  uint32_t deposits;
  char owner[16];
  int32_t legacy;        /* removed in v2 */
  PurseLimits1 limits;   /* v2 adds a field to it */
  int16_t marks[2];      /* v2 grows it to 4 */
} Purse1;

int Purse1_init(Purse1 *self, bs_context *ctx);
void Purse1_deinit(Purse1 *self);
int Purse1_fill(Purse1 *self, int64_t balance, const char *owner); /* persists */
int64_t Purse1_balance(const Purse1 *self);

#endif
