#include "idle.h"

int Idle_init(Idle *self, bs_context *ctx) {
  self->ctx = ctx;
  return 0;
}

void Idle_deinit(Idle *self) { (void)self; }

int Idle_touch(Idle *self) {
  self->touched++;
  return 0;
}
