#include <string.h>

#include "counter.bs.h"

int Counter_init(Counter *self, bs_context *ctx) {
  /* Stored fields are already loaded here; the others are zero. */
  self->ctx = ctx;
  self->wakeups++;
  return 0;
}

void Counter_deinit(Counter *self) { (void)self; }

uint64_t Counter_visit(Counter *self, const char *who) {
  self->visits++;
  strncpy(self->last_visitor, who, sizeof self->last_visitor - 1);
  /* Written after this turn; the reply waits until the write committed. */
  bs_context_persist(self->ctx);
  return self->visits;
}

uint64_t Counter_visits(const Counter *self) { return self->visits; }

bool Counter_restored(const Counter *self) { return bs_context_loaded(self->ctx); }
