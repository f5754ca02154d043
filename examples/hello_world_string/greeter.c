#include "greeter.h"

#include <inttypes.h>
#include <stdio.h>

int Greeter_init(Greeter *self, bs_context *ctx) {
  /* The engine zeroed the state; keep the context for later. */
  self->ctx = ctx;
  return 0;
}

void Greeter_deinit(Greeter *self) { (void)self; }

int Greeter_sayHello(Greeter *self, const char *name) {
  /* `name` points into the message: valid during this call only. */
  self->count++;
  printf("[%s] Hello, %s! (message %" PRIu32 ")\n", bs_context_id(self->ctx),
         name, self->count);
  return 0;
}

uint32_t Greeter_getCount(const Greeter *self) { return self->count; }
