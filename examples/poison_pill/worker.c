#include "worker.h"

#include <inttypes.h>
#include <stdio.h>

int Worker_init(Worker *self, bs_context *ctx) {
  self->ctx = ctx;
  printf("[%s] activated\n", bs_context_id(ctx));
  return 0;
}

void Worker_deinit(Worker *self) {
  printf("[%s] deinit after %" PRIu32 " jobs\n", bs_context_id(self->ctx),
         self->done);
}

int Worker_work(Worker *self, uint32_t job) {
  self->done++;
  printf("[%s] job %" PRIu32 "\n", bs_context_id(self->ctx), job);
  return 0;
}

uint32_t Worker_jobsDone(const Worker *self) { return self->done; }
