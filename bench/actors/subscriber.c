#include "subscriber.h"

int Subscriber_init(Subscriber *self, bs_context *ctx) {
  self->ctx = ctx;
  return 0;
}

void Subscriber_deinit(Subscriber *self) { (void)self; }

int Subscriber_onEvent(Subscriber *self, int64_t v) {
  self->total += v;
  return 0;
}

int64_t Subscriber_total(const Subscriber *self) { return self->total; }
