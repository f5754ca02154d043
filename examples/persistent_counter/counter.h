/* A persistent actor: its state outlives the engine (docs/persistence.md).
 * `persistent` after the marker makes backstage-gen write the state's
 * stored form; the engine loads it before init and writes it after every
 * turn that calls bs_context_persist. */
#ifndef COUNTER_H
#define COUNTER_H

#include <backstage.h>

// @generate-proxy persistent
typedef struct Counter {
  bs_context *ctx;        /* never stored */
  uint64_t visits;
  char last_visitor[32];
  uint32_t wakeups;       // @transient: counts this activation only
} Counter;

int      Counter_init(Counter *self, bs_context *ctx);
void     Counter_deinit(Counter *self);
uint64_t Counter_visit(Counter *self, const char *who); /* persists; the new count */
uint64_t Counter_visits(const Counter *self);
bool     Counter_restored(const Counter *self);         /* init found a stored state */

#endif
