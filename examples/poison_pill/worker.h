/* A worker that handles jobs. Stopping it (the poison pill) runs deinit
 * after the mail already queued; later mail becomes dead letters; the next
 * message after that starts a fresh instance. */
#ifndef WORKER_H
#define WORKER_H

#include <backstage.h>

// @generate-proxy
typedef struct Worker {
  bs_context *ctx;
  uint32_t done; /* jobs handled by this instance */
} Worker;

int Worker_init(Worker *self, bs_context *ctx);
void Worker_deinit(Worker *self);

int Worker_work(Worker *self, uint32_t job);
uint32_t Worker_jobsDone(const Worker *self);

#endif
