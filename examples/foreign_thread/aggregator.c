#include "aggregator.h"

int Aggregator_init(Aggregator *self, bs_context *ctx) {
  self->ctx = ctx;
  return 0;
}

void Aggregator_deinit(Aggregator *self) { (void)self; }

int Aggregator_add(Aggregator *self, uint32_t worker, uint32_t seq, uint64_t value) {
  if (worker >= AGG_MAX_WORKERS) return BS_EINVAL;
  Report *r = &self->report;
  /* Posts from one thread run in the order that thread made them. */
  if (seq != r->received[worker]) r->out_of_order++;
  r->received[worker]++;
  r->sums[worker] += value;
  return 0;
}

Report Aggregator_report(const Aggregator *self) { return self->report; }
