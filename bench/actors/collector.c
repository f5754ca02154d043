#include "collector.h"

int Collector_init(Collector *self, bs_context *ctx) {
  self->ctx = ctx;
  return 0;
}

void Collector_deinit(Collector *self) { (void)self; }

int Collector_done(Collector *self, int64_t value) {
  self->count++;
  self->sum += value;
  return 0;
}

int64_t Collector_count(const Collector *self) { return self->count; }
