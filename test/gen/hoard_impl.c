/* The methods of fixtures/hoard.h (test_gen_limits.c). */
#include "hoard.bs.h"

int Hoard_init(Hoard *self, bs_context *ctx) {
  self->ctx = ctx;
  return 0;
}

void Hoard_deinit(Hoard *self) { (void)self; }

int Hoard_keep(Hoard *self, const Big *items, size_t count) {
  (void)items;
  self->calls++;
  self->items += count;
  return 0;
}

uint64_t Hoard_count(Hoard *self, const Big *items, size_t count) {
  (void)items;
  self->calls++;
  return count;
}

uint64_t Hoard_calls(const Hoard *self) { return self->calls; }

Pile Hoard_pile(Hoard *self, uint32_t n) {
  static Big bigs[512];
  Pile p = {bigs, n < 512 ? n : 512};
  (void)self;
  return p;
}
