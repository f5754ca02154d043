#include "receiver.h"

#include <inttypes.h>
#include <stdio.h>

int Receiver_init(Receiver *self, bs_context *ctx) {
  self->ctx = ctx;
  return 0;
}

void Receiver_deinit(Receiver *self) { (void)self; }

int Receiver_receive(Receiver *self, const char *from, uint32_t seq,
                     const char *text) {
  self->received++;
  printf("[%s] got #%" PRIu32 " from %s: \"%s\"\n", bs_context_id(self->ctx),
         seq, from, text);
  return 0;
}

uint32_t Receiver_received(const Receiver *self) { return self->received; }
