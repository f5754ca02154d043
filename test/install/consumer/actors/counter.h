#ifndef COUNTER_H
#define COUNTER_H

#include <backstage.h>

typedef struct Sample {
  const char *label;
  BS_ARRAY(int32_t, values);
} Sample;

// @generate-proxy
typedef struct Counter {
  bs_context *ctx;
  uint32_t count;
  int64_t total;
  char last[32];
} Counter;

int Counter_init(Counter *self, bs_context *ctx);
void Counter_deinit(Counter *self);
int Counter_greet(Counter *self, const char *name);
void Counter_add(Counter *self, Sample sample);
uint32_t Counter_count(Counter *self);
int64_t Counter_total(Counter *self);
const char *Counter_last(Counter *self);

#endif
