/* An actor that collects results computed by other threads. Each thread
 * numbers its results; the actor checks they arrive in that order. */
#ifndef AGGREGATOR_H
#define AGGREGATOR_H

#include <backstage.h>

#define AGG_MAX_WORKERS 8

typedef struct Report {
  uint32_t received[AGG_MAX_WORKERS];
  uint64_t sums[AGG_MAX_WORKERS];
  uint32_t out_of_order;
} Report;

// @generate-proxy
typedef struct Aggregator {
  bs_context *ctx;
  Report report;
} Aggregator;

int Aggregator_init(Aggregator *self, bs_context *ctx);
void Aggregator_deinit(Aggregator *self);

int Aggregator_add(Aggregator *self, uint32_t worker, uint32_t seq, uint64_t value);
Report Aggregator_report(const Aggregator *self);

#endif
