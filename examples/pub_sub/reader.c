#include "reader.h"

#include <inttypes.h>
#include <stdio.h>

int Reader_init(Reader *self, bs_context *ctx) {
  self->ctx = ctx;
  return 0;
}

void Reader_deinit(Reader *self) { (void)self; }

int Reader_onHeadline(Reader *self, const Headline *h) {
  /* Elements of one stream arrive in publish order. */
  if (h->seq <= self->last_seq) self->out_of_order = true;
  self->last_seq = h->seq;
  self->read++;
  printf("[%s] #%" PRIu32 " %s: %s\n", bs_context_id(self->ctx), h->seq,
         h->desk, h->title);
  return 0;
}

Progress Reader_progress(const Reader *self) {
  Progress p = {self->read, self->last_seq, !self->out_of_order};
  return p;
}
