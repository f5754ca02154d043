#include "counter.h"

#include <stdio.h>

int Counter_init(Counter *self, bs_context *ctx) {
  self->ctx = ctx;
  return 0;
}

void Counter_deinit(Counter *self) { (void)self; }

int Counter_greet(Counter *self, const char *name) {
  printf("Hello, %s! ", name);
  snprintf(self->last, sizeof self->last, "%s", name);
  self->count++;
  return 0;
}

void Counter_add(Counter *self, Sample sample) {
  for (size_t i = 0; i < sample.values_count; i++)
    self->total += sample.values[i];
}

uint32_t Counter_count(Counter *self) { return self->count; }

int64_t Counter_total(Counter *self) { return self->total; }

const char *Counter_last(Counter *self) { return self->last; }
