#include "counter.h"

int Counter_init(Counter *self, bs_context *ctx) {
  self->ctx = ctx;
  return 0;
}

void Counter_deinit(Counter *self) { (void)self; }

int Counter_add(Counter *self, int32_t x) {
  self->total += x;
  return 0;
}

int64_t Counter_total(const Counter *self) { return self->total; }
